// cpusys: host system CPU spikes. /proc/stat every Interval; when sys% and its rise both exceed their thresholds,
// a host-wide CPU profile (flame graph) of RunTracingToolTimeout seconds is stored.
import type { Config } from "../config/schema";
import { registerTracer } from "../framework/registry";
import type { Tracer, TracerContext } from "../framework/types";
import type { TracerData } from "../storage/document";
import { parseProcStatCpu, type CpuTimes } from "../metrics/parse";
import { captureProfile } from "../profiler/profile";
import { procPath, readTextAsync } from "../procfs/root";
import { Cooldown, DetectorStats, saveCapture, withCaptureCheck } from "./common";
import { sleep } from "../framework/sleep";

export interface CpusysReading {
  /** Host system CPU %, integer (the original truncates). */
  nowSys: number;
  /** Change since the previous reading; 0 for the first reading after a (re)baseline. */
  deltaSys: number;
}

export interface CpusysThresholds {
  sys: number;
  deltaSys: number;
}

/** The guide's built-in 30 minute cooldown: [AutoTracing.CPUSys] has no IntervalTracing key. */
export const CPUSYS_COOLDOWN_S = 1800;

/** `system` is the 3rd column; the total is user..steal (guest time is already inside user and nice). */
function totals(t: CpuTimes): { system: number; total: number } {
  return { system: t.system, total: t.user + t.nice + t.system + t.idle + t.iowait + t.irq + t.softirq + t.steal };
}

/** Pure state machine over /proc/stat samples. */
export class CpusysDetector {
  private base?: { system: number; total: number };
  private previousPct?: number;

  /** One sample; a reading when one can be computed. Counters going back restart from this sample. */
  feed(times: CpuTimes): CpusysReading | undefined {
    const cur = totals(times);
    const base = this.base;
    this.base = cur;
    if (!base) return undefined;
    const dSys = cur.system - base.system;
    const dTotal = cur.total - base.total;
    if (dSys < 0 || dTotal < 0 || dSys > dTotal) {
      this.previousPct = undefined;
      return undefined;
    }
    if (dTotal === 0) return undefined;
    const nowSys = Math.floor((100 * dSys) / dTotal);
    const deltaSys = this.previousPct === undefined ? 0 : nowSys - this.previousPct;
    this.previousPct = nowSys;
    return { nowSys, deltaSys };
  }
}

export function cpusysTriggered(r: CpusysReading, t: CpusysThresholds): boolean {
  return r.nowSys > t.sys && r.deltaSys > t.deltaSys;
}

export async function readCpuTimes(): Promise<CpuTimes> {
  return parseProcStatCpu(await readTextAsync(procPath("stat")));
}

type CpusysConfig = Config["AutoTracing"]["CPUSys"];

/** The stored record: the guide's field names. */
export async function captureCpusys(cfg: CpusysConfig, reading: CpusysReading, durationS: number, signal?: AbortSignal) {
  const profile = await captureProfile({ durationMs: durationS * 1000, signal });
  return {
    data: {
      now_sys: reading.nowSys,
      sys_threshold: cfg.SysThreshold,
      deltasys: reading.deltaSys,
      deltasys_threshold: cfg.DeltaSysThreshold,
      flamedata: profile.flamedata,
    },
    profile,
  };
}

type CaptureFn = (cfg: CpusysConfig, reading: CpusysReading, signal: AbortSignal) => Promise<{ data: TracerData }>;

export interface CpusysOptions {
  /** The capture (tests replace the profiler). */
  capture?: CaptureFn;
  now?: () => number;
}

export class CpusysTracer implements Tracer {
  readonly hook = "procfs:stat perf_event:cpu-clock";
  readonly collector = new DetectorStats();
  private readonly detector = new CpusysDetector();
  private readonly cooldown = new Cooldown();
  private readonly capture: CaptureFn;
  private readonly now: () => number;

  constructor(
    private readonly ctx: TracerContext,
    options: CpusysOptions = {},
  ) {
    this.capture = options.capture ?? ((cfg, reading, signal) => captureCpusys(cfg, reading, cfg.RunTracingToolTimeout, signal));
    this.now = options.now ?? Date.now;
  }

  async run(signal: AbortSignal): Promise<void> {
    this.detector.feed(await readCpuTimes());
    while (!signal.aborted) {
      await sleep(this.ctx.config.get().AutoTracing.CPUSys.Interval * 1000, signal);
      if (!signal.aborted) await this.tick(signal);
    }
  }

  /** One detection step: read, decide, and capture when triggered. Returns the stored tracer_id, if any. */
  async tick(signal: AbortSignal): Promise<string | undefined> {
    const cfg = this.ctx.config.get().AutoTracing.CPUSys;
    const reading = this.detector.feed(await readCpuTimes());
    if (!reading || !cpusysTriggered(reading, { sys: cfg.SysThreshold, deltaSys: cfg.DeltaSysThreshold })) return undefined;
    this.collector.triggers++;
    const now = this.now();
    if (!this.cooldown.ready("", now, CPUSYS_COOLDOWN_S)) {
      this.collector.cooldownSkips++;
      return undefined;
    }
    this.cooldown.mark("", now);
    const { data } = await this.collector.capture(() => this.capture(cfg, reading, signal));
    const id = saveCapture(this.ctx, "cpusys", data, undefined, new Date(now));
    this.ctx.log.info("cpusys captured", { tracer_id: id, now_sys: reading.nowSys, deltasys: reading.deltaSys });
    return id;
  }
}

registerTracer({
  name: "cpusys",
  kind: "autotracing",
  description: "host system CPU spike → host-wide CPU flame graph",
  restartInterval: 20,
  create: (ctx) => withCaptureCheck(new CpusysTracer(ctx), "flame graphs"),
});
