// diskio: per-device I/O counters from /proc/diskstats and the host's CPU iowait share from /proc/stat.
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector } from "../framework/types";
import { procPath, readTextAsync } from "../procfs/root";
import { parseProcStatCpu, type CpuTimes } from "./parse";

/** diskstats counts in 512-byte sectors whatever the device's logical block size. */
const SECTOR_BYTES = 512;

export interface DiskStats {
  device: string;
  readsCompleted: number;
  sectorsRead: number;
  readTimeMs: number;
  writesCompleted: number;
  sectorsWritten: number;
  writeTimeMs: number;
  ioInProgress: number;
}

/**
 * Parses /proc/diskstats: `major minor name` then 11 fields, 15 since Linux 4.18 (discards), 17 since 5.5
 * (flushes). Only the first 11 are used, so every layout parses alike; shorter lines are skipped.
 */
export function parseDiskStats(text: string): DiskStats[] {
  const disks: DiskStats[] = [];
  for (const line of text.split("\n")) {
    const [, , device, ...raw] = line.trim().split(/\s+/);
    const f = raw.map(Number);
    if (!device || f.length < 11 || f.slice(0, 11).some((n) => !Number.isFinite(n))) continue;
    disks.push({
      device,
      readsCompleted: f[0],
      sectorsRead: f[2],
      readTimeMs: f[3],
      writesCompleted: f[4],
      sectorsWritten: f[6],
      writeTimeMs: f[7],
      ioInProgress: f[8],
    });
  }
  return disks;
}

/**
 * iowait% = Δiowait / Δ(user+nice+system+idle+iowait+irq+softirq+steal) · 100. Undefined when any counter
 * went back: Documentation/filesystems/proc.rst warns that iowait in /proc/stat can decrease on NO_HZ kernels.
 */
export function iowaitPercent(prev: CpuTimes, cur: CpuTimes): number | undefined {
  const keys = Object.keys(cur) as Array<keyof CpuTimes>;
  if (keys.some((k) => cur[k] < prev[k])) return undefined;
  const total = keys.reduce((sum, k) => sum + cur[k] - prev[k], 0);
  return total === 0 ? 0 : ((cur.iowait - prev.iowait) * 100) / total;
}

class DiskIoCollector implements MetricCollector {
  private prevCpu: CpuTimes | undefined;

  async collect(emit: Emitter): Promise<void> {
    const [diskstats, stat] = await Promise.all([
      readTextAsync(procPath("diskstats")),
      readTextAsync(procPath("stat")),
    ]);
    for (const disk of parseDiskStats(diskstats)) emitDisk(emit, disk);
    emit.gauge("disk_iowait_percent", "cpu iowait percent of the host", this.updateIowait(parseProcStatCpu(stat)));
  }

  /** The share since the previous scrape; the first scrape, or one after counters went back, reads 0. */
  private updateIowait(cur: CpuTimes): number {
    const percent = (this.prevCpu && iowaitPercent(this.prevCpu, cur)) ?? 0;
    this.prevCpu = cur;
    return percent;
  }
}

const DISK_COUNTERS: Array<[name: string, help: string, value: (d: DiskStats) => number]> = [
  ["read_requests_total", "The total number of reads completed successfully.", (d) => d.readsCompleted],
  ["write_requests_total", "The total number of writes completed successfully.", (d) => d.writesCompleted],
  ["read_bytes_total", "The total number of bytes read successfully.", (d) => d.sectorsRead * SECTOR_BYTES],
  ["written_bytes_total", "The total number of bytes written successfully.", (d) => d.sectorsWritten * SECTOR_BYTES],
  ["read_time_seconds_total", "The total number of seconds spent by all reads.", (d) => d.readTimeMs / 1000],
  ["write_time_seconds_total", "The total number of seconds spent by all writes.", (d) => d.writeTimeMs / 1000],
];

function emitDisk(emit: Emitter, d: DiskStats): void {
  const labels = { device: d.device };
  for (const [name, help, value] of DISK_COUNTERS) emit.counter(name, help, value(d), labels);
  emit.gauge("io_in_progress", "The number of I/Os currently in progress.", d.ioInProgress, labels);
}

registerTracer({
  name: "diskio",
  kind: "metric",
  description: "block device I/O counters from /proc/diskstats and CPU iowait from /proc/stat",
  create: () => ({ hook: "procfs", collector: new DiskIoCollector() }),
});
