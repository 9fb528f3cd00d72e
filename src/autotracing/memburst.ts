// memburst: host anonymous-memory bursts. /proc/meminfo every Interval into a window of SlidingWindowLength samples;
// on a burst outside the cooldown, the DumpProcessMaxNum processes with the most resident memory are stored.
import type { Config } from "../config/schema";
import { registerTracer } from "../framework/registry";
import type { Tracer, TracerContext } from "../framework/types";
import { procPath, readTextAsync } from "../procfs/root";
import { Cooldown, DetectorStats, saveCapture, tickEvery } from "./common";
import { AnonWindow, parseMeminfo, topByRss, type Meminfo, type ProcessMemory } from "./memburst_core";
import { listPids, processStatus } from "./procs";

type MemburstConfig = Config["AutoTracing"]["MemoryBurst"];

export async function readMeminfo(): Promise<Meminfo> {
  return parseMeminfo(await readTextAsync(procPath("meminfo")));
}

/** Processes by resident memory: VmRSS of /proc/<pid>/status, in kB whatever the page size (kernel threads have none). */
export async function topMemory(n: number): Promise<ProcessMemory[]> {
  const statuses = await Promise.all((await listPids()).map(async (pid) => [pid, await processStatus(pid)] as const));
  const list = statuses.flatMap(([pid, s]) => {
    const m = s && /^VmRSS:\s+(\d+) kB/m.exec(s);
    return m ? [{ pid, process_name: /^Name:\s+(.*)$/m.exec(s!)?.[1] ?? "", memory_size: Number(m[1]) * 1024 }] : [];
  });
  return topByRss(list, n);
}

export class MemburstTracer implements Tracer {
  readonly hook = "procfs:meminfo";
  readonly collector = new DetectorStats();
  private window?: { length: number; ring: AnonWindow };
  private readonly cooldown = new Cooldown();

  constructor(
    private readonly ctx: TracerContext,
    private readonly now: () => number = Date.now,
  ) {}

  run(signal: AbortSignal): Promise<void> {
    return tickEvery(signal, () => this.ctx.config.get().AutoTracing.MemoryBurst.Interval * 1000, () => this.tick());
  }

  /** One sample; on a burst outside the cooldown, the top processes are stored. */
  async tick(): Promise<string | undefined> {
    const cfg = this.ctx.config.get().AutoTracing.MemoryBurst;
    const mem = await readMeminfo();
    if (!this.ring(cfg).feed(mem.anonKb, mem.memTotalKb, { deltaBurst: cfg.DeltaMemoryBurst, anonPercent: cfg.DeltaAnonThreshold })) {
      return undefined;
    }
    this.collector.triggers++;
    const now = this.now();
    // the original collects first and drops the result during the cooldown; not collecting at all costs less
    if (!this.cooldown.ready("", now, cfg.IntervalTracing)) {
      this.collector.cooldownSkips++;
      return undefined;
    }
    const top = await this.collector.capture(() => topMemory(cfg.DumpProcessMaxNum));
    this.cooldown.mark("", now);
    const id = saveCapture(this.ctx, "memburst", { top_memory_usage: top }, undefined, new Date(now));
    this.ctx.log.info("memburst captured", { tracer_id: id, anon_kb: mem.anonKb, top_pid: top[0]?.pid });
    return id;
  }

  /** A new SlidingWindowLength (config reload) starts a new window. */
  private ring(cfg: MemburstConfig): AnonWindow {
    if (this.window?.length !== cfg.SlidingWindowLength) {
      this.window = { length: cfg.SlidingWindowLength, ring: new AnonWindow(cfg.SlidingWindowLength) };
    }
    return this.window.ring;
  }
}

registerTracer({
  name: "memburst",
  kind: "autotracing",
  description: "host anonymous memory burst → processes with the most resident memory",
  restartInterval: 10,
  create: (ctx) => new MemburstTracer(ctx),
});
