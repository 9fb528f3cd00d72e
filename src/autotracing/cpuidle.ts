// cpuidle: CPU spikes in containers. Each Interval, every normal container passing the Filter is sampled from its
// cgroup; of those crossing a threshold pair (and out of their cooldown) the highest score gets a container-scoped
// CPU profile of RunTracingToolTimeout seconds.
import type { Config } from "../config/schema";
import { registerTracer } from "../framework/registry";
import type { Tracer, TracerContext } from "../framework/types";
import { readContainerCpu } from "../metrics/cpu_util_container";
import { countCpuList } from "../metrics/parse";
import { hostCgroups } from "../pod/cgroup_reader";
import type { Container } from "../pod/types";
import { cgroupFilterFor } from "../profiler/cgroup_filter";
import { captureProfile, type Profile } from "../profiler/profile";
import { readTextAsync, sysPath } from "../procfs/root";
import type { TracerData } from "../storage/document";
import { Cooldown, DetectorStats, saveCapture, tickEvery, withCaptureCheck } from "./common";
import {
  ContainerCpuTracker,
  cpuidleScore,
  passesContainerFilter,
  pickCandidate,
  type CpuidleReading,
  type CpuidleSample,
  type CpuidleThresholds,
} from "./cpuidle_core";

type CpuidleConfig = Config["AutoTracing"]["CPUIdle"];

function cpuidleThresholds(cfg: CpuidleConfig): CpuidleThresholds {
  return {
    user: cfg.UserThreshold, sys: cfg.SysThreshold, usage: cfg.UsageThreshold,
    deltaUser: cfg.DeltaUserThreshold, deltaSys: cfg.DeltaSysThreshold, deltaUsage: cfg.DeltaUsageThreshold,
  };
}

/** The guide's record: each percentage and rise next to its threshold. */
export function cpuidleData(cfg: CpuidleConfig, r: CpuidleReading, profile: Pick<Profile, "flamedata">): TracerData {
  return {
    user: r.pct.user, user_threshold: cfg.UserThreshold,
    deltauser: r.delta.user, deltauser_threshold: cfg.DeltaUserThreshold,
    sys: r.pct.sys, sys_threshold: cfg.SysThreshold,
    deltasys: r.delta.sys, deltasys_threshold: cfg.DeltaSysThreshold,
    usage: r.pct.usage, usage_threshold: cfg.UsageThreshold,
    deltausage: r.delta.usage, deltausage_threshold: cfg.DeltaUsageThreshold,
    flamedata: profile.flamedata,
  };
}

/** A CPU profile of one container's cgroup (and the cgroups below it). */
export async function profileContainer(c: Container, durationS: number, signal?: AbortSignal): Promise<Profile> {
  const cgroup = cgroupFilterFor(c);
  if (!cgroup) throw new Error(`container ${c.id.slice(0, 12)}: no cpu cgroup found`);
  return captureProfile({ durationMs: durationS * 1000, cgroup, signal });
}

/** A container's cumulative CPU time now, undefined when its cgroup is gone. */
export async function sampleContainer(c: Container, hostCores: number): Promise<CpuidleSample | undefined> {
  const reading = await readContainerCpu(hostCgroups(), c, hostCores).catch(() => undefined);
  if (!reading) return undefined;
  const { usrUs, sysUs, totalUs } = reading.usage;
  return { userUs: usrUs, sysUs, totalUs: totalUs ?? usrUs + sysUs, atUs: performance.now() * 1000, cores: reading.cores };
}

export async function onlineCpus(): Promise<number> {
  return countCpuList(await readTextAsync(sysPath("devices/system/cpu/online")));
}

type CaptureFn = (c: Container, cfg: CpuidleConfig, signal: AbortSignal) => Promise<Pick<Profile, "flamedata">>;

export interface CpuidleOptions {
  capture?: CaptureFn;
  now?: () => number;
}

interface Tracked {
  cgroupPath: string;
  tracker: ContainerCpuTracker;
}

export class CpuidleTracer implements Tracer {
  readonly hook = "cgroup:cpuacct perf_event:cpu-clock";
  readonly collector = new DetectorStats();
  private readonly tracked = new Map<string, Tracked>();
  private readonly cooldown = new Cooldown();
  private readonly capture: CaptureFn;
  private readonly now: () => number;

  constructor(
    private readonly ctx: TracerContext,
    options: CpuidleOptions = {},
  ) {
    this.capture = options.capture ?? ((c, cfg, signal) => profileContainer(c, cfg.RunTracingToolTimeout, signal));
    this.now = options.now ?? Date.now;
  }

  run(signal: AbortSignal): Promise<void> {
    return tickEvery(signal, () => this.ctx.config.get().AutoTracing.CPUIdle.Interval * 1000, () => this.tick(signal));
  }

  /** One tick: sample every watched container, capture at most one. Returns the stored tracer_id, if any. */
  async tick(signal: AbortSignal): Promise<string | undefined> {
    const cfg = this.ctx.config.get().AutoTracing.CPUIdle;
    const containers = this.watched(cfg);
    const hostCores = await onlineCpus();
    const readings = await Promise.all(containers.map(async (c) => [c, await this.sample(c, hostCores)] as const));
    const now = this.now();
    const thresholds = cpuidleThresholds(cfg);
    const candidates = readings.flatMap(([c, r]) => {
      const score = r && cpuidleScore(r, thresholds);
      return score === undefined ? [] : [{ id: c.id, score, container: c, reading: r! }];
    });
    this.collector.triggers += candidates.length;
    const ready = candidates.filter((c) => this.cooldown.ready(c.id, now, cfg.IntervalTracing));
    this.collector.cooldownSkips += candidates.length - ready.length;
    const chosen = pickCandidate(ready);
    if (!chosen || signal.aborted) return undefined;
    const profile = await this.collector.capture(() => this.capture(chosen.container, cfg, signal));
    this.cooldown.mark(chosen.id, now);
    const id = saveCapture(this.ctx, "cpuidle", cpuidleData(cfg, chosen.reading, profile), chosen.container, new Date(now));
    this.ctx.log.info("cpuidle captured", { tracer_id: id, container_id: chosen.id, score: chosen.score });
    return id;
  }

  /** Normal containers passing the filter; state of the others is dropped, and reset when a cgroup moved. */
  private watched(cfg: CpuidleConfig): Container[] {
    const list = this.ctx.containers
      .list()
      .filter((c) => c.type === "normal" && passesContainerFilter(c, cfg.Filter.Included, cfg.Filter.Excluded));
    const ids = new Set(list.map((c) => c.id));
    for (const id of this.tracked.keys()) if (!ids.has(id)) this.tracked.delete(id);
    this.cooldown.retain(ids);
    for (const c of list) {
      if (this.tracked.get(c.id)?.cgroupPath !== c.cgroupPath) {
        this.tracked.set(c.id, { cgroupPath: c.cgroupPath, tracker: new ContainerCpuTracker() });
      }
    }
    return list;
  }

  private async sample(c: Container, hostCores: number): Promise<CpuidleReading | undefined> {
    const s = await sampleContainer(c, hostCores);
    return s && this.tracked.get(c.id)!.tracker.feed(s);
  }
}

registerTracer({
  name: "cpuidle",
  kind: "autotracing",
  description: "container CPU spike → CPU flame graph of that container",
  restartInterval: 20,
  create: (ctx) => withCaptureCheck(new CpuidleTracer(ctx), "flame graphs"),
});
