// /proc/<pid>/maps: executable mappings and address lookup.
import { expect, test } from "bun:test";
import { findMapping, parseMaps } from "./proc_maps";

const MAPS = `55d0c0a00000-55d0c0a02000 r--p 00000000 fd:01 1234                       /usr/bin/app
55d0c0a02000-55d0c0a08000 r-xp 00002000 fd:01 1234                       /usr/bin/app
7f00aa000000-7f00aa100000 r-xp 00000000 00:00 0
7f00ab028000-7f00ab1bd000 r-xp 00028000 fd:01 99                         /usr/lib/x86_64-linux-gnu/libc.so.6
7ffd1e3f0000-7ffd1e3f2000 r-xp 00000000 00:00 0                          [vdso]
`;

test("only executable mappings, with offset, device and inode", () => {
  const maps = parseMaps(MAPS);
  expect(maps.map((m) => m.path)).toEqual(["/usr/bin/app", "", "/usr/lib/x86_64-linux-gnu/libc.so.6", "[vdso]"]);
  expect(maps[0]).toEqual({ start: 0x55d0c0a02000, end: 0x55d0c0a08000, offset: 0x2000, dev: "fd:01", inode: 1234, path: "/usr/bin/app" });
});

test("findMapping: the range holding an address, or none", () => {
  const maps = parseMaps(MAPS);
  expect(findMapping(maps, 0x7f00ab028000)?.inode).toBe(99);
  expect(findMapping(maps, 0x7f00ab1bcfff)?.inode).toBe(99);
  expect(findMapping(maps, 0x7f00ab1bd000)).toBeUndefined();
  expect(findMapping(maps, 0x1000)).toBeUndefined();
});
