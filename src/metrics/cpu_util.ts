// cpu_util: host CPU utilisation (usr, sys, total) in percent of all online CPUs, from /proc/stat between samples,
// and per container (Normal and Sidecar) in percent of the container's cores (cpu_util_container.ts).
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector, TracerContext } from "../framework/types";
import { hostCgroups } from "../pod/cgroup_reader";
import type { Container } from "../pod/types";
import { procPath, readTextAsync, sysPath } from "../procfs/root";
import { normalAndSidecarContainers, readEach } from "./containers";
import { ContainerCpuUtil, emitContainerCpu, readContainerCpu } from "./cpu_util_container";
import { countCpuList, parseProcStatCpu, type CpuTimes } from "./parse";

/** /proc/stat counts in USER_HZ, which the kernel fixes at 100 on every architecture we run on (x86_64, arm64). */
const TICK_US = 10_000;
const MIN_REFRESH_US = 1_000_000;
/** How far over capacity a pair may read from sampling and CFS period alignment before it is distrusted. */
const OVERSHOOT_SHARE = 0.2;

/** Cumulative CPU time in microseconds, split the way cgroup cpu.stat splits it. */
export interface CpuUsage {
  usrUs: number;
  sysUs: number;
  /** All CPU time when measured apart from usr+sys (a cgroup's cpuacct.usage or usage_usec). */
  totalUs?: number;
}

export interface CpuUtil {
  usr: number;
  sys: number;
  total: number;
}

interface Sample {
  usage: CpuUsage;
  atUs: number;
}

const IDLE: CpuUtil = { usr: 0, sys: 0, total: 0 };

/**
 * Host usage with the cgroup split, so host and container series compare: the original reads the root
 * cgroup, whose user_usec is user+nice and system_usec is system+irq+softirq (cpuacct.stat likewise).
 * iowait, idle and steal are not time this host spent running, so they are left out of all three.
 */
export function hostCpuUsage(t: CpuTimes): CpuUsage {
  return { usrUs: (t.user + t.nice) * TICK_US, sysUs: (t.system + t.irq + t.softirq) * TICK_US };
}

/**
 * util% = Δusage·100 / (cores·Δwall). Undefined when the pair cannot be trusted (counters went back, clock did
 * not advance, or usage exceeds capacity by more than tick sampling explains) and the baseline must restart.
 */
export function cpuUtilBetween(prev: Sample, cur: Sample, cores: number): CpuUtil | undefined {
  const wallUs = cur.atUs - prev.atUs;
  let usr = cur.usage.usrUs - prev.usage.usrUs;
  let sys = cur.usage.sysUs - prev.usage.sysUs;
  let total = usr + sys;
  if (wallUs <= 0 || cores <= 0 || usr < 0 || sys < 0) return undefined;
  if (cur.usage.totalUs !== undefined && prev.usage.totalUs !== undefined) {
    // A cgroup's total is exact while its usr/sys split is tick-sampled (v1 cpuacct.stat): split the exact total.
    total = cur.usage.totalUs - prev.usage.totalUs;
    if (total < 0) return undefined;
    const share = usr + sys > 0 ? usr / (usr + sys) : 0;
    [usr, sys] = [total * share, total - total * share];
  }
  const capacity = cores * wallUs;
  // A saturated host or a container at its CFS quota reads over 100%: ticks are sampled up to one late per CPU, a
  // quota is granted per 100 ms period (a window can hold one more period's worth), and each end's timestamp is
  // taken a little after its counters were read. Only a pair far beyond that is a glitch.
  if (total > capacity * (1 + OVERSHOOT_SHARE) + Math.max(cores, 1) * TICK_US) return undefined;
  const percent = (us: number) => Math.min(100, (us * 100) / capacity);
  return { usr: percent(usr), sys: percent(sys), total: percent(total) };
}

export class CpuUtilCollector implements MetricCollector {
  private baseline: Sample | undefined;
  private util: CpuUtil = IDLE;
  private hostCores = 0;
  private readonly containers = new ContainerCpuUtil();

  constructor(
    private readonly nowUs: () => number = () => performance.now() * 1000,
    private readonly ctx?: TracerContext,
  ) {}

  async collect(emit: Emitter): Promise<void> {
    await this.refresh();
    emit.gauge("usr", "cpu usr for the host", this.util.usr);
    emit.gauge("sys", "cpu sys for the host", this.util.sys);
    emit.gauge("total", "cpu total for the host", this.util.total);
    if (this.ctx) await this.collectContainers(emit, this.ctx);
  }

  private async collectContainers(emit: Emitter, ctx: TracerContext): Promise<void> {
    const list = normalAndSidecarContainers(ctx);
    this.containers.retain(list);
    const fs = hostCgroups();
    // Each container is timed when its counters arrive: on a busy host reads of many cgroups finish at different
    // moments, and a common timestamp would skew the rates.
    const read = async (c: Container) => {
      const reading = await readContainerCpu(fs, c, this.hostCores);
      return reading && { reading, atUs: this.nowUs() };
    };
    for (const [c, { reading, atUs }] of await readEach(list, read)) {
      emitContainerCpu(emit.forContainer(c), this.containers.update(c, reading, atUs));
    }
  }

  /** Takes a new sample unless the last one is under a second old; a first or reset sample reads as idle. */
  private async refresh(): Promise<void> {
    const atUs = this.nowUs();
    if (this.baseline && atUs - this.baseline.atUs < MIN_REFRESH_US) return;
    const [stat, online] = await Promise.all([
      readTextAsync(procPath("stat")),
      readTextAsync(sysPath("devices/system/cpu/online")),
    ]);
    const sample = { usage: hostCpuUsage(parseProcStatCpu(stat)), atUs };
    this.hostCores = countCpuList(online);
    this.util = (this.baseline && cpuUtilBetween(this.baseline, sample, this.hostCores)) ?? IDLE;
    this.baseline = sample;
  }
}

registerTracer({
  name: "cpu_util",
  kind: "metric",
  description: "host CPU utilisation (usr, sys, total %) from /proc/stat, and per container from its cgroup",
  create: (ctx) => ({ hook: "procfs", collector: new CpuUtilCollector(undefined, ctx) }),
});
