// /proc parsers of the detectors: stat lines with odd names, kernel stacks, /proc/<pid>/io, device numbers.
import { expect, test } from "bun:test";
import { kernelDev, parseProcIo, statDevToKernel } from "./io_procs";
import { parseKernelStack, parseStat } from "./procs";

test("parseStat: the name in parentheses may hold spaces and parentheses", () => {
  expect(parseStat(42, "42 (my (odd) name) D 1 42 42 0 -1")).toEqual({ tid: 42, comm: "my (odd) name", state: "D" });
  expect(parseStat(1, "garbage")).toBeUndefined();
});

test("parseKernelStack drops the address column", () => {
  expect(parseKernelStack("[<0>] percpu_rwsem_wait+0x15f/0x1d0\n[<0>] mnt_want_write+0x96/0xc0\n")).toEqual([
    "percpu_rwsem_wait+0x15f/0x1d0",
    "mnt_want_write+0x96/0xc0",
  ]);
});

test("parseProcIo: syscall and storage byte counters", () => {
  const text = "rchar: 100\nwchar: 200\nsyscr: 1\nsyscw: 2\nread_bytes: 4096\nwrite_bytes: 8192\ncancelled_write_bytes: 0\n";
  expect(parseProcIo(text)).toEqual({ rchar: 100, wchar: 200, readBytes: 4096, writeBytes: 8192 });
  expect(parseProcIo("rchar: 1\n")).toBeUndefined();
});

/** glibc's makedev(), as stat() reports st_dev. */
const makedev = (major: bigint, minor: bigint) =>
  ((major & 0xfffff000n) << 32n) | ((major & 0xfffn) << 8n) | ((minor & 0xffffff00n) << 12n) | (minor & 0xffn);

test("device numbers: glibc's st_dev and the kernel's dev_t name the same disk", () => {
  expect(kernelDev(7, 3)).toBe((7 << 20) | 3);
  for (const [major, minor] of [[7, 3], [259, 1], [8, 300], [254, 0]]) {
    expect(statDevToKernel(makedev(BigInt(major!), BigInt(minor!)))).toBe(kernelDev(major!, minor!));
  }
});
