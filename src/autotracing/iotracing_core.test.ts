// iotracing: diskstats parsing, rates per window, and the two-consecutive-windows trigger.
import { describe, expect, test } from "bun:test";
import { crossed, DiskDetector, diskMetrics, ioStatus, parseDiskstats, summary, type DiskRaw } from "./iotracing_core";

const T = { rbps: 2000, wbps: 1500, util: 90, await: 100 };
const MIB = 1 << 20;

/** A disk's cumulative counters. */
function disk(name: string, c: Partial<DiskRaw> = {}): DiskRaw {
  return { major: 8, minor: 0, name, reads: 0, readSectors: 0, readTicks: 0, writes: 0, writeSectors: 0, writeTicks: 0, ioTicks: 0, weightedTicks: 0, ...c };
}

test("parseDiskstats reads the counters of kernels printing 14, 18 or 20 fields", () => {
  const text = [
    "   8       0 sda 10 0 80 5 20 0 160 40 0 30 45",
    "   8       1 sda1 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20",
    " 259       0 nvme0n1 1 2 3 4 5 6 7 8 9 10 11 12 13 14",
    "garbage",
  ].join("\n");
  const disks = parseDiskstats(text);
  expect(disks.map((d) => d.name)).toEqual(["sda", "sda1", "nvme0n1"]);
  expect(disks[0]).toEqual(disk("sda", { reads: 10, readSectors: 80, readTicks: 5, writes: 20, writeSectors: 160, writeTicks: 40, ioTicks: 30, weightedTicks: 45 }));
});

test("rates over a window; a counter going back gives zeros", () => {
  const m = diskMetrics(disk("sda"), disk("sda", { writes: 100, writeSectors: 20480, writeTicks: 5000, ioTicks: 4750, weightedTicks: 10000 }), 5);
  expect(m).toEqual({ read_bps: 0, read_iops: 0, read_await: 0, write_bps: (20480 * 512) / 5, write_iops: 20, write_await: 50, io_util: 95, queue_size: 2 });
  expect(diskMetrics(disk("sda", { reads: 5 }), disk("sda"), 5).io_util).toBe(0);
  expect(ioStatus(m)).toMatchObject({ write_bps: 2, io_util: 95, write_await: 50 });
});

describe("crossed", () => {
  const m = (o: Partial<ReturnType<typeof diskMetrics>>) => ({ ...diskMetrics(disk("x"), disk("x"), 1), ...o });

  test("utilisation in both windows on a disk", () => {
    expect(crossed("sda", m({ io_util: 95 }), m({ io_util: 91 }), T)).toBe("ioutil");
    expect(crossed("sda", m({ io_util: 85 }), m({ io_util: 99 }), T)).toBeUndefined();
  });

  test("NVMe also needs throughput over RbpsThreshold or WbpsThreshold in both", () => {
    const busy = { io_util: 100 };
    expect(crossed("nvme0n1", m(busy), m(busy), T)).toBeUndefined();
    expect(crossed("nvme0n1", m({ ...busy, read_bps: 2100 * MIB }), m({ ...busy, read_bps: 2001 * MIB }), T)).toBe("read_bps");
    expect(crossed("nvme0n1", m({ ...busy, write_bps: 1600 * MIB }), m({ ...busy, write_bps: 1501 * MIB }), T)).toBe("write_bps");
  });

  test("await in both windows, reads before writes", () => {
    expect(crossed("sda", m({ read_await: 150, write_await: 150 }), m({ read_await: 101, write_await: 300 }), T)).toBe("read_await");
    expect(crossed("sda", m({ write_await: 150 }), m({ write_await: 120 }), T)).toBe("write_await");
  });
});

describe("DiskDetector", () => {
  /** Cumulative diskstats where every window adds `util`% busy time over 5 s. */
  function busy(detector: DiskDetector, name: string, utils: number[]): Array<string | undefined> {
    let ticks = 0;
    const out = [detector.feed([disk(name)], 5, T)?.type];
    for (const u of utils) {
      ticks += u * 50;
      out.push(detector.feed([disk(name, { ioTicks: ticks })], 5, T)?.type);
    }
    return out;
  }

  test("a one-window spike does not trigger; two consecutive windows do", () => {
    expect(busy(new DiskDetector(), "sda", [10, 99, 10, 99, 99])).toEqual([undefined, undefined, undefined, undefined, undefined, "ioutil"]);
  });

  test("md devices are skipped", () => {
    expect(busy(new DiskDetector(), "md0", [99, 99, 99])).toEqual([undefined, undefined, undefined, undefined]);
  });

  test("after a trigger it starts over: two more windows are needed", () => {
    const d = new DiskDetector();
    expect(busy(d, "sda", [99, 99])).toContain("ioutil");
    let ticks = 1e6;
    const next = [0, 1, 2].map(() => d.feed([disk("sda", { ioTicks: (ticks += 99 * 50) })], 5, T)?.type);
    expect(next).toEqual([undefined, undefined, "ioutil"]);
  });

  test("a rollback gives zero rates for that window, so no trigger spans it", () => {
    const d = new DiskDetector();
    d.feed([disk("sda", { ioTicks: 1000 })], 5, T);
    expect(d.feed([disk("sda", { ioTicks: 1000 + 99 * 50 })], 5, T)).toBeUndefined();
    expect(d.feed([disk("sda", { ioTicks: 10 })], 5, T)).toBeUndefined();
    expect(d.feed([disk("sda", { ioTicks: 10 + 99 * 50 })], 5, T)).toBeUndefined();
    expect(d.feed([disk("sda", { ioTicks: 10 + 2 * 99 * 50 })], 5, T)?.type).toBe("ioutil");
  });
});

test("summary names the metric, the threshold and the disk", () => {
  const t = { type: "ioutil" as const, disk: disk("sda"), metrics: diskMetrics(disk("sda"), disk("sda", { ioTicks: 4750, weightedTicks: 160000, writes: 10, writeTicks: 1450 }), 5) };
  expect(summary(t, T)).toBe("ioutil=95% (threshold=90%) on sda(8:0), aqu-sz=32, r_await=0ms w_await=145ms");
});
