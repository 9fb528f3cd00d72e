// iotracing: disk I/O bursts. /proc/diskstats every 5 s (the original's fixed window); when a disk stays over a
// threshold for two consecutive windows, I/O is traced for RunTracingToolTimeout seconds and the top processes, their
// files and the stacks of tasks blocked in D state are stored. No cooldown: detection restarts from fresh baselines.
import type { Config } from "../config/schema";
import { registerTracer } from "../framework/registry";
import type { Tracer, TracerContext } from "../framework/types";
import type { Container } from "../pod/types";
import { procPath, readTextAsync } from "../procfs/root";
import type { TracerData } from "../storage/document";
import { DetectorStats, saveCapture, tickEvery, withCaptureCheck } from "./common";
import { captureIo, type IoCapture } from "./io_capture";
import { kernelDev } from "./io_procs";
import { DiskDetector, ioStatus, parseDiskstats, summary, type DiskRaw, type IoThresholds, type IoTrigger } from "./iotracing_core";

type IoConfig = Config["AutoTracing"]["IOTracing"];

const WINDOW_S = 5;

export function ioThresholds(cfg: IoConfig): IoThresholds {
  return { rbps: cfg.RbpsThreshold, wbps: cfg.WbpsThreshold, util: cfg.UtilThreshold, await: cfg.AwaitThreshold };
}

export async function readDiskstats(): Promise<DiskRaw[]> {
  return parseDiskstats(await readTextAsync(procPath("diskstats")));
}

export function diskNames(disks: readonly DiskRaw[]): Map<number, string> {
  return new Map(disks.map((d) => [kernelDev(d.major, d.minor), d.name]));
}

export interface ReasonSnapshot {
  type: string;
  device: string;
  major_num: number;
  minor_num: number;
  iostatus: ReturnType<typeof ioStatus>;
  summary: string;
}

export function reasonOf(trigger: IoTrigger, t: IoThresholds): ReasonSnapshot {
  const d = trigger.disk;
  return { type: trigger.type, device: d.name, major_num: d.major, minor_num: d.minor, iostatus: ioStatus(trigger.metrics), summary: summary(trigger, t) };
}

export function iotracingData(reason: ReasonSnapshot, cap: IoCapture): TracerData {
  return { reason_snapshot: reason, process_io_data: cap.process_io_data, timeout_io_stack: cap.timeout_io_stack };
}

/** The capture with the config's limits; D-state waits over AwaitThreshold count as timed out. */
export function captureWithConfig(cfg: IoConfig, disks: readonly DiskRaw[], containers: readonly Container[], durationS: number, signal?: AbortSignal) {
  return captureIo({
    durationS, maxProc: cfg.MaxProcDump, maxFiles: cfg.MaxFilesPerProcDump, minBlockMs: cfg.AwaitThreshold,
    containers, diskNames: diskNames(disks), signal,
  });
}

type CaptureFn = (cfg: IoConfig, trigger: IoTrigger, disks: DiskRaw[], signal: AbortSignal) => Promise<IoCapture>;

export interface IotracingOptions {
  /** Seconds between diskstats samples (tests shorten it). */
  windowS?: number;
  capture?: CaptureFn;
  /** Monotonic seconds (tests script the elapsed time). */
  clock?: () => number;
}

export class IotracingTracer implements Tracer {
  readonly hook = "procfs:diskstats tracepoint:block/block_bio_queue,block/block_rq_issue,block/block_rq_complete,sched/sched_switch";
  readonly collector = new DetectorStats();
  private readonly detector = new DiskDetector();
  private readonly windowS: number;
  private readonly capture: CaptureFn;
  private readonly clock: () => number;
  private last?: number;

  constructor(
    private readonly ctx: TracerContext,
    options: IotracingOptions = {},
  ) {
    this.windowS = options.windowS ?? WINDOW_S;
    this.capture = options.capture ?? ((cfg, _t, disks, signal) => captureWithConfig(cfg, disks, ctx.containers.list(), cfg.RunTracingToolTimeout, signal));
    this.clock = options.clock ?? (() => performance.now() / 1000);
  }

  run(signal: AbortSignal): Promise<void> {
    return tickEvery(signal, () => this.windowS * 1000, () => this.tick(signal));
  }

  /** One diskstats sample; on a trigger, the capture is stored. */
  async tick(signal: AbortSignal): Promise<string | undefined> {
    const cfg = this.ctx.config.get().AutoTracing.IOTracing;
    const disks = await readDiskstats();
    const now = this.clock();
    const elapsed = this.last === undefined ? 0 : now - this.last;
    this.last = now;
    const thresholds = ioThresholds(cfg);
    const trigger = this.detector.feed(disks, elapsed, thresholds);
    if (!trigger || signal.aborted) return undefined;
    this.collector.triggers++;
    const started = new Date();
    const cap = await this.collector.capture(() => this.capture(cfg, trigger, disks, signal));
    this.last = undefined;
    const reason = reasonOf(trigger, thresholds);
    const id = saveCapture(this.ctx, "iotracing", iotracingData(reason, cap), undefined, started);
    this.ctx.log.info("iotracing captured", { tracer_id: id, reason: reason.summary, processes: cap.process_io_data.length });
    return id;
  }
}

registerTracer({
  name: "iotracing",
  kind: "autotracing",
  description: "disk I/O burst → top I/O processes, their files, stacks of I/O-blocked tasks",
  restartInterval: 5,
  create: (ctx) => withCaptureCheck(new IotracingTracer(ctx), "I/O tracing"),
});
