// The config the RPM installs, derived from the repository's huatuo-bamai.conf at build time so the two never drift:
// the same file, with local event storage under /var/lib/huatuo-bamai instead of "huatuo-local" in the working dir.
import { readFileSync, writeFileSync } from "node:fs";

export const SYSTEM_STORAGE_PATH = "/var/lib/huatuo-bamai";
const SECTION = "[Storage.LocalFile]";

/** Sets [Storage.LocalFile] Path (commented out at its default or set) to the system path; throws if not found once. */
export function systemConfig(text: string): string {
  const lines = text.split("\n");
  const start = lines.findIndex((line) => line.trim() === SECTION);
  if (start < 0) throw new Error(`no ${SECTION} section`);
  const end = lines.findIndex((line, i) => i > start && line.trim().startsWith("["));
  const inSection = (i: number) => i > start && (end < 0 || i < end);
  const matches = lines.flatMap((line, i) => (inSection(i) && /^#?\s*Path\s*=/.test(line) ? [i] : []));
  if (matches.length !== 1) throw new Error(`expected one Path line in ${SECTION}, found ${matches.length}`);
  lines.splice(
    matches[0]!,
    1,
    '# Set by the package (the default is "huatuo-local", relative to the working directory):',
    `Path = ${JSON.stringify(SYSTEM_STORAGE_PATH)}`,
  );
  return lines.join("\n");
}

if (import.meta.main) {
  const [input, output] = process.argv.slice(2);
  if (!input || !output) {
    console.error("usage: system_conf.ts <huatuo-bamai.conf> <output>");
    process.exit(2);
  }
  writeFileSync(output, systemConfig(readFileSync(input, "utf8")));
}
