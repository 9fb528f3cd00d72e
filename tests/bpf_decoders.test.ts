// Generated decoders: committed files match what the objects' BTF generates now, and the generator refuses
// layouts TypeScript could misread (implicit padding, bitfields).
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBpf, ROOT, run } from "./support/bpf_helpers";
import { generateAll, generateTracer } from "../scripts/gen-decoders";

beforeAll(buildBpf);

const GEN = join(ROOT, "src/bpf/gen");

test("src/bpf/gen is up to date with the BTF of build/bpf (run bun scripts/gen-decoders.ts)", () => {
  const fresh = generateAll(ROOT);
  const committed = readdirSync(GEN).filter((f) => f.endsWith(".ts") && !f.startsWith("embedded"));
  expect(committed.sort()).toEqual([...fresh.keys()].sort());
  for (const [file, source] of fresh) expect(`${file}\n${readFileSync(join(GEN, file), "utf8")}`).toBe(`${file}\n${source}`);
});

/** Compiles a one-struct BPF object in a scratch tree laid out like the repository. */
function scratchTracer(struct: string): string {
  const root = mkdtempSync(join(tmpdir(), "hb-gen-"));
  mkdirSync(join(root, "bpf/include"), { recursive: true });
  mkdirSync(join(root, "build/bpf"), { recursive: true });
  writeFileSync(join(root, "bpf/include/probe.h"), `${struct}\n`);
  writeFileSync(
    join(root, "bpf/probe.bpf.c"),
    `typedef unsigned char __u8; typedef unsigned int __u32; typedef unsigned long long __u64;
#include "probe.h"
struct probe *pin __attribute__((unused));
char LICENSE[] __attribute__((section("license"))) = "GPL";
`,
  );
  const cc = run(["clang", "-target", "bpf", "-O2", "-g", "-I", join(root, "bpf/include"), "-c", join(root, "bpf/probe.bpf.c"), "-o", join(root, "build/bpf/probe.bpf.o")]);
  if (cc.code !== 0) throw new Error(cc.stderr);
  return root;
}

describe("the generator refuses layouts without explicit padding", () => {
  test("implicit padding between fields", () => {
    const root = scratchTracer("struct probe { __u32 a; __u64 b; };");
    expect(() => generateTracer(root, "probe")).toThrow("struct probe.b: implicit padding at byte 4, add an explicit __pad field");
  });

  test("implicit tail padding", () => {
    const root = scratchTracer("struct probe { __u64 a; __u32 b; };");
    expect(() => generateTracer(root, "probe")).toThrow("struct probe: implicit tail padding after byte 12");
  });

  test("bitfields", () => {
    const root = scratchTracer("struct probe { __u32 a : 3; __u32 b : 29; };");
    expect(() => generateTracer(root, "probe")).toThrow("bitfields are not allowed");
  });

  test("explicit padding is laid out but not decoded", () => {
    const root = scratchTracer("struct probe { __u32 a; __u32 __pad; __u64 b; __u8 name[8]; };");
    const source = generateTracer(root, "probe");
    expect(source).toContain("__pad: { offset: 4, size: 4 },");
    expect(source).not.toContain("__pad: number");
    expect(source).toContain("b: u64(view, offset + 8),");
  });
});
