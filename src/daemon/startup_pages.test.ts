import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { fileMappings, releaseStartupPages } from "./startup_pages";

describe("fileMappings", () => {
  test("file-backed mappings only, with their extent", () => {
    const maps = [
      "00200000-01a39000 r--p 00000000 fe:01 1234   /usr/bin/huatuo-bamai",
      "01a40000-0684a000 r-xp 01839000 fe:01 1234   /usr/bin/huatuo-bamai",
      "45755000-45acb000 rw-p 00000000 00:00 0      [heap]",
      "7f1907111000-7f1907312000 rw-s 00000000 00:0f 99 anon_inode:bpf-map",
      "7f1907400000-7f1907401000 rw-s 00000000 00:05 7 /dev/zero (deleted)",
      "7f1907500000-7f1907600000 rw-s 00000000 00:01 8 /memfd:jit (deleted)",
      "7f1908a9d000-7f1948a9d000 ---p 00000000 00:00 0 ",
      "7ffd1c9f0000-7ffd1c9f2000 r-xp 00000000 00:00 0 [vdso]",
      "",
    ].join("\n");
    expect(fileMappings(maps)).toEqual([
      { start: 0x200000, length: 0x1839000, path: "/usr/bin/huatuo-bamai" },
      { start: 0x1a40000, length: 0x4e0a000, path: "/usr/bin/huatuo-bamai" },
    ]);
  });
});

describe("releaseStartupPages on this process", () => {
  const fileKiB = () => Number(/^RssFile:\s+(\d+)/m.exec(readFileSync("/proc/self/status", "utf8"))![1]);

  test("file pages leave RSS, and the process runs on (what it uses faults back in)", () => {
    const before = fileKiB();
    const result = releaseStartupPages();
    expect(result.error).toBeUndefined();
    expect(result.afterKiB).toBeLessThan(result.beforeKiB);
    expect(fileKiB()).toBeLessThan(before);
    expect(JSON.parse(JSON.stringify({ still: "working" }))).toEqual({ still: "working" });
  });
});
