// cpu_stat: per-container CFS throttling, burst and run-queue wait from cgroup cpu.stat.
// Container-only, as in the original: without containers it emits nothing.
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector, TracerContext } from "../framework/types";
import { hostCgroups, type CgroupFs } from "../pod/cgroup_reader";
import type { Container } from "../pod/types";
import { normalAndSidecarContainers, readEach } from "./containers";
import { parseFlatKeyed } from "./parse";

const MIN_WAIT_INTERVAL_US = 1_000_000;

/** cpu.stat normalised to nanoseconds; a field is absent when this kernel does not report it. */
export interface CpuStat {
  nrThrottled?: number;
  throttledTimeNs?: number;
  nrBursts?: number;
  burstTimeNs?: number;
  /** Time runnable tasks waited on a run queue: v1 only, and only with schedstats enabled. */
  waitSumNs?: number;
  /** CPU time used: v2 `usage_usec`; v1 keeps it in cpuacct.usage instead. */
  usageNs?: number;
}

/** v1 reports `throttled_time`/`burst_time` in ns, v2 `throttled_usec`/`burst_usec` (bursts since Linux 5.14). */
export function parseCpuStat(text: string): CpuStat {
  const kv = parseFlatKeyed(text);
  const usToNs = (key: string): number | undefined => {
    const us = kv.get(key);
    return us === undefined ? undefined : us * 1000;
  };
  return {
    nrThrottled: kv.get("nr_throttled"),
    throttledTimeNs: kv.get("throttled_time") ?? usToNs("throttled_usec"),
    nrBursts: kv.get("nr_bursts"),
    burstTimeNs: kv.get("burst_time") ?? usToNs("burst_usec"),
    waitSumNs: kv.get("wait_sum"),
    usageNs: usToNs("usage_usec"),
  };
}

export interface WaitSample {
  waitNs: number;
  usageNs: number;
  atUs: number;
}

/** Share of runnable time spent waiting: Δwait / (Δwait + Δusage) · 100; undefined when counters went back. */
export function waitSumPercent(prev: WaitSample, cur: WaitSample): number | undefined {
  const wait = cur.waitNs - prev.waitNs;
  const usage = cur.usageNs - prev.usageNs;
  if (wait < 0 || usage < 0) return undefined;
  return wait + usage === 0 ? 0 : (wait * 100) / (wait + usage);
}

interface WaitState {
  baseline: WaitSample;
  percent?: number;
}

export class CpuStatCollector implements MetricCollector {
  private readonly waits = new Map<string, WaitState>();

  constructor(
    private readonly ctx: TracerContext,
    private readonly nowUs: () => number = () => performance.now() * 1000,
  ) {}

  async collect(emit: Emitter): Promise<void> {
    const containers = normalAndSidecarContainers(this.ctx);
    this.forgetGone(containers);
    const fs = hostCgroups();
    for (const [container, stat] of await readEach(containers, (c) => readContainerStat(fs, c))) {
      this.emitContainer(emit.forContainer(container), container.id, stat);
    }
  }

  private emitContainer(out: Emitter, id: string, stat: CpuStat): void {
    const put = (name: string, help: string, value: number | undefined) => {
      if (value !== undefined) out.gauge(name, help, value);
    };
    put("nr_throttled", "throttle nr for the containers", stat.nrThrottled);
    put("throttled_time", "throttle time for the containers", stat.throttledTimeNs);
    put("nr_bursts", "burst nr for the containers", stat.nrBursts);
    put("burst_time", "burst time for the containers", stat.burstTimeNs);
    put("wait_sum_percent", "cpu wait percent for the containers", this.waitPercent(id, stat));
  }

  /** The wait share over at least a second; the first sample of a container only sets its baseline. */
  private waitPercent(id: string, stat: CpuStat): number | undefined {
    if (stat.waitSumNs === undefined || stat.usageNs === undefined) return undefined;
    const sample = { waitNs: stat.waitSumNs, usageNs: stat.usageNs, atUs: this.nowUs() };
    const state = this.waits.get(id);
    if (state && sample.atUs - state.baseline.atUs < MIN_WAIT_INTERVAL_US) return state.percent;
    const percent = state && waitSumPercent(state.baseline, sample);
    this.waits.set(id, { baseline: sample, percent });
    return percent;
  }

  private forgetGone(containers: Container[]): void {
    const live = new Set(containers.map((c) => c.id));
    for (const id of this.waits.keys()) if (!live.has(id)) this.waits.delete(id);
  }
}

/** cpu.stat plus, on v1, cpuacct.usage; undefined when the container's cgroup is gone. */
async function readContainerStat(fs: CgroupFs, c: Container): Promise<CpuStat | undefined> {
  const text = await fs.read(c, "cpu", "cpu.stat");
  if (text === undefined) return undefined;
  const stat = parseCpuStat(text);
  if (fs.dir(c, "cpu")?.version === 1 && stat.waitSumNs !== undefined) {
    const usage = await fs.read(c, "cpuacct", "cpuacct.usage");
    if (usage !== undefined) stat.usageNs = Number(usage.trim());
  }
  return stat;
}

registerTracer({
  name: "cpu_stat",
  kind: "metric",
  description: "container CFS throttling, burst and wait from cgroup cpu.stat",
  create: (ctx) => ({ hook: "sysfs", collector: new CpuStatCollector(ctx) }),
});
