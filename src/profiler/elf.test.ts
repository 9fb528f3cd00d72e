// ELF symbols and user-space symbolization against binaries compiled here: a full .symtab, a stripped one (only
// .dynsym), and a running process whose addresses go through /proc/<pid>/maps.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ElfFile, findSymbol } from "./elf";
import { UNKNOWN_FRAME, UserSymbolizer } from "./user_symbols";

const dir = mkdtempSync(join(tmpdir(), "huatuo-elf-"));
const SOURCE = `
#include <unistd.h>
__attribute__((noinline)) int first_function(int x) { return x * 3 + 1; }
__attribute__((noinline, visibility("default"))) int exported_function(int x) { return first_function(x) + 2; }
int main(void) { volatile int v = exported_function(1); (void)v; pause(); return 0; }
`;

function sh(cmd: string[]): string {
  const p = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${p.stderr}`);
  return p.stdout.toString();
}

/** The link-time address of `name` as nm prints it. */
function nmAddress(binary: string, name: string, dynamic = false): number {
  const line = sh(["nm", ...(dynamic ? ["-D"] : []), binary]).split("\n").find((l) => l.endsWith(` ${name}`));
  return parseInt(line!.split(" ")[0]!, 16);
}

const full = join(dir, "full");
const stripped = join(dir, "stripped");

beforeAll(() => {
  writeFileSync(join(dir, "prog.c"), SOURCE);
  sh(["cc", "-O1", "-fPIE", "-pie", "-rdynamic", "-o", full, join(dir, "prog.c")]);
  sh(["cp", full, stripped]);
  sh(["strip", "--strip-all", stripped]);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("ElfFile", () => {
  test("function symbols of .symtab, found by any address inside them", () => {
    const elf = ElfFile.open(full)!;
    const syms = elf.functionSymbols()!;
    const at = nmAddress(full, "first_function");
    expect(elf.hasSymtab()).toBe(true);
    for (const addr of [at, at + 1]) expect(elf.name(syms, findSymbol(syms, addr)!)).toBe("first_function");
    expect(findSymbol(syms, 1)).toBeUndefined();
    expect(elf.buildId()).toMatch(/^[0-9a-f]{40}$/);
    elf.close();
  });

  test("a stripped binary still names its exported functions from .dynsym", () => {
    const elf = ElfFile.open(stripped)!;
    const syms = elf.functionSymbols()!;
    expect(elf.hasSymtab()).toBe(false);
    expect(elf.name(syms, findSymbol(syms, nmAddress(full, "exported_function", true))!)).toBe("exported_function");
    elf.close();
  });

  test("not an ELF file: undefined", () => {
    writeFileSync(join(dir, "text"), "hello");
    expect(ElfFile.open(join(dir, "text"))).toBeUndefined();
  });
});

describe("UserSymbolizer on a running process", () => {
  test("a runtime address goes through the mapping's offset and the load segment to the function", async () => {
    const proc = Bun.spawn([full], { stdout: "ignore" });
    try {
      await Bun.sleep(100);
      const maps = await Bun.file(`/proc/${proc.pid}/maps`).text();
      const exec = maps.split("\n").find((l) => l.includes(" r-xp ") && l.endsWith(full))!;
      const [range, , offset] = exec.split(/\s+/);
      const start = parseInt(range!.split("-")[0]!, 16);
      const elf = ElfFile.open(full)!;
      const vaddr = nmAddress(full, "first_function");
      // runtime = mapping start + (file offset of vaddr − mapping offset)
      const seg = elf.loads.find((l) => vaddr >= l.vaddr && vaddr < l.vaddr + l.filesz)!;
      const fileOffset = vaddr - seg.vaddr + seg.offset;
      elf.close();
      const runtime = start + fileOffset - parseInt(offset!, 16);
      const sym = new UserSymbolizer({ maxFiles: 1 });
      await sym.loadProcess(proc.pid);
      expect(sym.resolve(proc.pid, runtime + 2)).toBe("first_function");
      expect(sym.resolve(proc.pid, 16)).toBe(UNKNOWN_FRAME);
      // libc comes and goes through the one-file LRU: the answers stay right
      const libc = maps.split("\n").find((l) => l.includes(" r-xp ") && l.includes("libc.so"))!;
      const libcAddr = parseInt(libc.split("-")[0]!, 16) + 0x100;
      expect(sym.resolve(proc.pid, libcAddr)).not.toBe(UNKNOWN_FRAME);
      expect(sym.resolve(proc.pid, runtime)).toBe("first_function");
      sym.close();
    } finally {
      proc.kill();
    }
  });
});
