// memburst's decision core, pure: a ring of anonymous-memory samples; a burst is the newest sample at least
// (1 + DeltaMemoryBurst%) times the oldest one in a full window, while anonymous memory is DeltaAnonThreshold% of RAM.

export interface MemburstThresholds {
  /** Growth over the window, in percent (100 = doubled). */
  deltaBurst: number;
  /** Anonymous memory as a percentage of MemTotal. */
  anonPercent: number;
}

export class AnonWindow {
  private readonly ring: number[] = [];
  private next = 0;

  constructor(private readonly length: number) {}

  /**
   * Adds a sample (kB) and tells whether it is a burst. The oldest sample is the slot about to be overwritten, so
   * the comparison spans `length` samples, and nothing triggers before the window is full.
   */
  feed(anonKb: number, memTotalKb: number, t: MemburstThresholds): boolean {
    if (this.ring.length < this.length) {
      this.ring.push(anonKb);
      return false;
    }
    const oldest = this.ring[this.next]!;
    this.ring[this.next] = anonKb;
    this.next = (this.next + 1) % this.length;
    return anonKb >= (1 + t.deltaBurst / 100) * oldest && anonKb >= Math.floor((t.anonPercent * memTotalKb) / 100);
  }
}

export interface Meminfo {
  memTotalKb: number;
  anonKb: number;
}

/** MemTotal and Active(anon) + Inactive(anon) from /proc/meminfo (kB). */
export function parseMeminfo(text: string): Meminfo {
  const kb = (key: string) => Number(new RegExp(`^${key.replace(/[()]/g, "\\$&")}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? NaN);
  const m = { memTotalKb: kb("MemTotal"), anonKb: kb("Active(anon)") + kb("Inactive(anon)") };
  if (!Number.isFinite(m.memTotalKb) || !Number.isFinite(m.anonKb)) throw new Error("/proc/meminfo: MemTotal or anon counters missing");
  return m;
}

export interface ProcessMemory {
  pid: number;
  process_name: string;
  /** Resident bytes. */
  memory_size: number;
}

/** The `n` largest by RSS; ties by pid so the order is stable. */
export function topByRss(list: ProcessMemory[], n: number): ProcessMemory[] {
  return [...list].sort((a, b) => b.memory_size - a.memory_size || a.pid - b.pid).slice(0, n);
}
