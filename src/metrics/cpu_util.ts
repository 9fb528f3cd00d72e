// cpu_util: host CPU utilisation (usr, sys, total) in percent of all online CPUs, from /proc/stat between samples.
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector } from "../framework/types";
import { procPath, readTextAsync, sysPath } from "../procfs/root";
import { countCpuList, parseProcStatCpu, type CpuTimes } from "./parse";

/** /proc/stat counts in USER_HZ, which the kernel fixes at 100 on every architecture we run on (x86_64, arm64). */
const TICK_US = 10_000;
const MIN_REFRESH_US = 1_000_000;

/** Cumulative CPU time in microseconds, split the way cgroup cpu.stat splits it. */
export interface CpuUsage {
  usrUs: number;
  sysUs: number;
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
  const usr = cur.usage.usrUs - prev.usage.usrUs;
  const sys = cur.usage.sysUs - prev.usage.sysUs;
  if (wallUs <= 0 || cores <= 0 || usr < 0 || sys < 0) return undefined;
  const capacity = cores * wallUs;
  // Each CPU's ticks are read up to one tick late at either end, so a saturated host may read slightly over 100%.
  if (usr + sys > capacity + cores * TICK_US) return undefined;
  const percent = (us: number) => Math.min(100, (us * 100) / capacity);
  return { usr: percent(usr), sys: percent(sys), total: percent(usr + sys) };
}

export class CpuUtilCollector implements MetricCollector {
  private baseline: Sample | undefined;
  private util: CpuUtil = IDLE;

  constructor(private readonly nowUs: () => number = () => performance.now() * 1000) {}

  async collect(emit: Emitter): Promise<void> {
    await this.refresh();
    emit.gauge("usr", "cpu usr for the host", this.util.usr);
    emit.gauge("sys", "cpu sys for the host", this.util.sys);
    emit.gauge("total", "cpu total for the host", this.util.total);
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
    this.util = (this.baseline && cpuUtilBetween(this.baseline, sample, countCpuList(online))) ?? IDLE;
    this.baseline = sample;
  }
}

registerTracer({
  name: "cpu_util",
  kind: "metric",
  description: "host CPU utilisation (usr, sys, total %) from /proc/stat",
  create: () => ({ hook: "procfs", collector: new CpuUtilCollector() }),
});
