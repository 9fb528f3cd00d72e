// Names of rotated record files, `<tracer_name>-<YYYY-MM-DDTHH-MM-SS.mmm>` in local time as the original names them;
// shared by the writer (rotate, prune) and `huatuo-bamai events` (read them back in order).
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";

const STAMP = String.raw`\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}`;
const pad = (n: number, width = 2) => String(n).padStart(width, "0");

function stamp(d: Date): string {
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const clock = `${pad(d.getHours())}-${pad(d.getMinutes())}-${pad(d.getSeconds())}`;
  return `${day}T${clock}.${pad(d.getMilliseconds(), 3)}`;
}

/** The time a rotated file's name carries (local time), or undefined for another name. */
function stampTime(name: string): number | undefined {
  const m = /(\d{4})-(\d\d)-(\d\d)T(\d\d)-(\d\d)-(\d\d)\.(\d{3})$/.exec(name);
  if (!m) return undefined;
  const [y, mo, d, h, mi, sec, ms] = m.slice(1).map(Number) as [number, number, number, number, number, number, number];
  return new Date(y, mo - 1, d, h, mi, sec, ms).getTime();
}

/**
 * A rotated name for `tracer` at `now` that sorts after every existing one: names order the files, so a name is never
 * reused or placed before a newer file, even when rotations come within a millisecond, after pruning freed an old
 * name, or after the clock stepped back.
 */
export function rotatedName(dir: string, tracer: string, now: Date): string {
  const newest = listRotated(dir, tracer).at(-1);
  let t = Math.max(now.getTime(), newest ? (stampTime(newest) ?? 0) + 1 : 0);
  while (existsSync(join(dir, `${tracer}-${stamp(new Date(t))}`))) t++;
  return `${tracer}-${stamp(new Date(t))}`;
}

function rotatedPattern(tracer: string): RegExp {
  return new RegExp(`^${tracer.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}-${STAMP}$`);
}

/** Rotated files of `tracer` in `dir`, oldest first. */
export function listRotated(dir: string, tracer: string): string[] {
  const pattern = rotatedPattern(tracer);
  return readdirSync(dir)
    .filter((f) => pattern.test(f))
    .sort();
}

/** Tracer names with a current or rotated file in `dir`. */
export function listTracers(dir: string): string[] {
  const rotated = new RegExp(`^(.+)-${STAMP}$`);
  const names = new Set<string>();
  for (const f of readdirSync(dir)) names.add(rotated.exec(f)?.[1] ?? f);
  return [...names].sort();
}
