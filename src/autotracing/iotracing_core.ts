// iotracing's decision core, pure: /proc/diskstats parsing, per-disk rates between two samples, and the trigger:
// a metric over its threshold in two consecutive windows (md devices are skipped, as their members are counted).

export interface DiskRaw {
  major: number;
  minor: number;
  name: string;
  reads: number;
  readSectors: number;
  readTicks: number;
  writes: number;
  writeSectors: number;
  writeTicks: number;
  ioTicks: number;
  weightedTicks: number;
}

/** Rates over one window; bytes/s, ms, %, requests. */
export interface DiskMetrics {
  read_bps: number;
  read_iops: number;
  read_await: number;
  write_bps: number;
  write_iops: number;
  write_await: number;
  io_util: number;
  queue_size: number;
}

export interface IoThresholds {
  /** MB/s */
  rbps: number;
  wbps: number;
  /** % */
  util: number;
  /** ms */
  await: number;
}

export type IoTriggerType = "ioutil" | "read_bps" | "write_bps" | "read_await" | "write_await";

export interface IoTrigger {
  type: IoTriggerType;
  disk: DiskRaw;
  metrics: DiskMetrics;
}

const MIB = 1 << 20;

/** Lines of /proc/diskstats: major minor name, then the counters (Documentation/admin-guide/iostats.rst). */
export function parseDiskstats(text: string): DiskRaw[] {
  const disks: DiskRaw[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) continue;
    const n = f.map(Number);
    disks.push({
      major: n[0]!, minor: n[1]!, name: f[2]!,
      reads: n[3]!, readSectors: n[5]!, readTicks: n[6]!,
      writes: n[7]!, writeSectors: n[9]!, writeTicks: n[10]!,
      ioTicks: n[12]!, weightedTicks: n[13]!,
    });
  }
  return disks;
}

export const ZERO_METRICS: DiskMetrics = { read_bps: 0, read_iops: 0, read_await: 0, write_bps: 0, write_iops: 0, write_await: 0, io_util: 0, queue_size: 0 };

/** Rates over `seconds`; a counter that went back (device reset, wrap) gives all zeros. */
export function diskMetrics(prev: DiskRaw, cur: DiskRaw, seconds: number): DiskMetrics {
  const keys = ["reads", "readSectors", "readTicks", "writes", "writeSectors", "writeTicks", "ioTicks", "weightedTicks"] as const;
  const d = Object.fromEntries(keys.map((k) => [k, cur[k] - prev[k]])) as Record<(typeof keys)[number], number>;
  if (seconds <= 0 || keys.some((k) => d[k] < 0)) return { ...ZERO_METRICS };
  return {
    read_bps: (d.readSectors * 512) / seconds,
    read_iops: d.reads / seconds,
    read_await: d.reads > 0 ? d.readTicks / d.reads : 0,
    write_bps: (d.writeSectors * 512) / seconds,
    write_iops: d.writes / seconds,
    write_await: d.writes > 0 ? d.writeTicks / d.writes : 0,
    io_util: Math.min(100, d.ioTicks / (seconds * 10)),
    queue_size: d.weightedTicks / (seconds * 1000),
  };
}

/** Which threshold both windows crossed, checked in the original's order; undefined when none. */
export function crossed(name: string, prev: DiskMetrics, cur: DiskMetrics, t: IoThresholds): IoTriggerType | undefined {
  const both = (k: keyof DiskMetrics, limit: number) => prev[k] > limit && cur[k] > limit;
  if (both("io_util", t.util)) {
    // an NVMe device can show 100% util with room to spare (parallel queues): it also needs the throughput
    if (!name.startsWith("nvme")) return "ioutil";
    if (both("read_bps", t.rbps * MIB)) return "read_bps";
    if (both("write_bps", t.wbps * MIB)) return "write_bps";
  }
  if (both("read_await", t.await)) return "read_await";
  if (both("write_await", t.await)) return "write_await";
  return undefined;
}

/** Feeds diskstats samples; the first trigger is returned and the detector starts over from fresh baselines. */
export class DiskDetector {
  private raw = new Map<string, DiskRaw>();
  private metrics = new Map<string, DiskMetrics>();

  feed(disks: readonly DiskRaw[], seconds: number, t: IoThresholds): IoTrigger | undefined {
    const raw = new Map<string, DiskRaw>();
    const metrics = new Map<string, DiskMetrics>();
    for (const disk of disks) {
      if (disk.name.startsWith("md")) continue;
      raw.set(disk.name, disk);
      const base = this.raw.get(disk.name);
      if (!base) continue;
      const cur = diskMetrics(base, disk, seconds);
      const prev = this.metrics.get(disk.name);
      const type = prev && crossed(disk.name, prev, cur, t);
      if (type) {
        this.raw = new Map();
        this.metrics = new Map();
        return { type, disk, metrics: cur };
      }
      metrics.set(disk.name, cur);
    }
    this.raw = raw;
    this.metrics = metrics;
    return undefined;
  }
}

/** The record's iostatus: bandwidth in MB/s, everything rounded to integers as the guide's sample shows. */
export function ioStatus(m: DiskMetrics): DiskMetrics {
  const r = Math.round;
  return {
    read_bps: r(m.read_bps / MIB), read_iops: r(m.read_iops), read_await: r(m.read_await),
    write_bps: r(m.write_bps / MIB), write_iops: r(m.write_iops), write_await: r(m.write_await),
    io_util: r(m.io_util), queue_size: r(m.queue_size),
  };
}

/** One line saying why, e.g. `ioutil=95% (threshold=90%) on sda(8:0), aqu-sz=32, r_await=12ms w_await=145ms`. */
export function summary(trigger: IoTrigger, t: IoThresholds): string {
  const s = ioStatus(trigger.metrics);
  const at = `${trigger.disk.name}(${trigger.disk.major}:${trigger.disk.minor})`;
  switch (trigger.type) {
    case "ioutil":
      return `ioutil=${s.io_util}% (threshold=${t.util}%) on ${at}, aqu-sz=${s.queue_size}, r_await=${s.read_await}ms w_await=${s.write_await}ms`;
    case "read_bps":
      return `read_bps=${s.read_bps}MB/s (threshold=${t.rbps}MB/s) on ${at}, ioutil=${s.io_util}%`;
    case "write_bps":
      return `write_bps=${s.write_bps}MB/s (threshold=${t.wbps}MB/s) on ${at}, ioutil=${s.io_util}%`;
    case "read_await":
      return `r_await=${s.read_await}ms (threshold=${t.await}ms) on ${at}, aqu-sz=${s.queue_size}`;
    case "write_await":
      return `w_await=${s.write_await}ms (threshold=${t.await}ms) on ${at}, aqu-sz=${s.queue_size}`;
  }
}
