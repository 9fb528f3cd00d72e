// The native layer as shipped: glibc-only dependencies, hb_* exports, one-time content-addressed extraction,
// loading with the system libbpf/libelf/zlib hidden, and one-line errors for bad input.
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBpf, isRoot, ROOT, rootOnly, run } from "./support/bpf_helpers";

const LIB = join(ROOT, "build/lib/libhuatuo_bpf.so");
const GLIBC_LIBS = /^(linux-vdso|libc|libm|libdl|libpthread|librt|ld-linux[-\w]*)\.so/;

beforeAll(buildBpf);

describe("libhuatuo_bpf.so", () => {
  test("ldd shows only glibc libraries", () => {
    const { stdout } = run(["ldd", LIB]);
    const libs = stdout.trim().split("\n").map((line) => line.trim().split(/\s+/)[0]!.replace(/^.*\//, ""));
    expect(libs.length).toBeGreaterThan(0);
    expect(libs.filter((lib) => !GLIBC_LIBS.test(lib))).toEqual([]);
  });

  test("exports only the hb_* API", () => {
    const { stdout } = run(["nm", "-D", "--defined-only", LIB]);
    const symbols = stdout.trim().split("\n").map((line) => line.split(" ").at(-1)!);
    expect(symbols.filter((s) => !s.startsWith("hb_"))).toEqual([]);
    expect(symbols).toContain("hb_reader_read");
  });

  test("needs no glibc newer than Bun itself (2.17)", () => {
    const { stdout } = run(["objdump", "-T", LIB]);
    const versions = [...stdout.matchAll(/GLIBC_2\.(\d+)/g)].map((m) => Number(m[1]));
    expect(Math.max(...versions)).toBeLessThanOrEqual(17);
  });
});

describe("extraction", () => {
  test("is content-addressed and reused: one file per build, no temporary copies", async () => {
    const { extractTo } = await import("../src/bpf/native");
    const dir = mkdtempSync(join(tmpdir(), "hb-extract-"));
    const bytes = readFileSync(LIB);
    const first = extractTo(dir, bytes);
    const mtime = statSync(first).mtimeMs;
    await Bun.sleep(20);
    expect(extractTo(dir, bytes)).toBe(first);
    expect(statSync(first).mtimeMs).toBe(mtime);
    const digest = new Bun.CryptoHasher("sha256").update(bytes).digest("hex");
    expect(first).toBe(join(dir, digest.slice(0, 16), "libhuatuo_bpf.so"));
    expect(readdirSync(join(dir, digest.slice(0, 16)))).toEqual(["libhuatuo_bpf.so"]);
    writeFileSync(first, "corrupt");
    expect(readFileSync(extractTo(dir, bytes)).equals(bytes)).toBe(true);
  });
});

/** The real files behind the system's shared libbpf, libelf and zlib. */
function systemLibraries(): string[] {
  const dir = "/usr/lib/x86_64-linux-gnu";
  const names = readdirSync(dir).filter((f) => /^(libbpf|libelf|libz)[-.].*so/.test(f));
  return [...new Set(names.map((f) => realpathSync(join(dir, f))))];
}

describe.skipIf(!isRoot)(rootOnly("with the system libbpf, libelf and zlib hidden"), () => {
  test("the library loads and runqlat attaches", () => {
    const hidden = systemLibraries();
    expect(hidden.length).toBeGreaterThanOrEqual(3);
    const work = mkdtempSync(join(tmpdir(), "hb-hidden-"));
    const script = join(work, "child.ts");
    writeFileSync(
      script,
      `import { readFileSync } from "node:fs";
for (const f of ${JSON.stringify(hidden)}) if (readFileSync(f).length) throw new Error(f + " is not hidden");
const { createRunqlat } = await import(${JSON.stringify(join(ROOT, "src/metrics/runqlat.ts"))});
const tracer = await createRunqlat();
console.log("attached " + tracer.hook);
await tracer.close();
`,
    );
    const mounts = hidden.map((f) => `mount --bind /dev/null ${f}`).join(" && ");
    const bun = join(ROOT, "node_modules/.bin/bun");
    // unshare(1) makes the new mount namespace private: the bind mounts never reach the host
    const result = run(["unshare", "-m", "sh", "-c", `${mounts} && exec ${bun} ${script}`], {
      HUATUO_BPF_LIB_DIR: join(work, "lib"),
    });
    expect(result.stderr).toBe("");
    expect(result.stdout).toStartWith("attached tp_btf:");
    expect(result.code).toBe(0);
  }, 60_000);
});
