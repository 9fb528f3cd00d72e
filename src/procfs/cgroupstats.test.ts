// cgroupstats request and reply bytes, then the kernel's answers for a v1 cgroup, a cgroup2 directory and a cgroup
// that is gone. Counting against task states is in metrics/loadavg_container.test.ts.
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { CgroupStatsReader, encodeCgroupStatsGet, parseCgroupStatsReply, taskstatsFamilyId } from "./cgroupstats";
import { concatBytes, encodeAttr, encodeGenl, NetlinkError } from "./netlink";

function u64s(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  values.forEach((n, i) => new DataView(out.buffer).setBigUint64(i * 8, BigInt(n), true));
  return out;
}

describe("encoding", () => {
  test("CGROUPSTATS_CMD_GET version 1 with the directory fd as CGROUPSTATS_CMD_ATTR_FD (u32)", () => {
    expect([...encodeCgroupStatsGet(0x01020304)]).toEqual([4, 1, 0, 0, 8, 0, 1, 0, 4, 3, 2, 1]);
  });

  test("a CGROUPSTATS_CMD_NEW reply decodes struct cgroupstats in kernel order", () => {
    const reply = encodeGenl(5, 1, [encodeAttr(1, u64s([120, 4, 1, 8, 3]))]);
    expect(parseCgroupStatsReply(reply)).toEqual({ nrSleeping: 120, nrRunning: 4, nrStopped: 1, nrUninterruptible: 8, nrIoWait: 3 });
  });

  test("another command or a short struct is not a reply", () => {
    expect(() => parseCgroupStatsReply(encodeGenl(4, 1, [encodeAttr(1, u64s([0, 0, 0, 0, 0]))]))).toThrow(NetlinkError);
    expect(() => parseCgroupStatsReply(concatBytes([encodeGenl(5, 1, [encodeAttr(1, u64s([1, 2]))])]))).toThrow(NetlinkError);
  });
});

const family = process.getuid?.() === 0 ? taskstatsFamilyId() : undefined;
const V1_CPU = "/sys/fs/cgroup/cpu";
const V2 = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"].find((d) => existsSync(`${d}/cgroup.controllers`));

describe.skipIf(family === undefined || !existsSync(`${V1_CPU}/tasks`))("against the running kernel", () => {
  test("a v1 cgroup: the root's tasks by state, this process's threads among them", () => {
    const reader = new CgroupStatsReader(family!);
    try {
      const stats = reader.read(V1_CPU);
      const total = Object.values(stats ?? {}).reduce((a, b) => a + b, 0);
      expect(stats?.nrRunning).toBeGreaterThanOrEqual(1);
      expect(total).toBeLessThanOrEqual(readFileSync(`${V1_CPU}/tasks`, "utf8").split("\n").length);
    } finally {
      reader.close();
    }
  });

  test.skipIf(V2 === undefined)("a cgroup2 directory is refused with EINVAL", () => {
    const reader = new CgroupStatsReader(family!);
    try {
      let caught: unknown;
      try {
        reader.read(V2!);
      } catch (err) {
        caught = err;
      }
      expect((caught as NetlinkError).errno).toBe(22);
    } finally {
      reader.close();
    }
  });

  test("a cgroup that is gone reads as undefined, and every fd is closed", () => {
    const before = readdirSync("/proc/self/fd").length;
    const reader = new CgroupStatsReader(family!);
    expect(reader.read(`${V1_CPU}/hb-no-such-cgroup`)).toBeUndefined();
    reader.read(V1_CPU);
    reader.close();
    expect(readdirSync("/proc/self/fd").length).toBe(before);
  });
});
