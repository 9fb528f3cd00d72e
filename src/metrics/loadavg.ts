// loadavg: host load averages over 1, 5 and 15 minutes from /proc/loadavg, and per Normal container its running
// and uninterruptible task counts (loadavg_container.ts: cgroupstats on cgroup v1, task states otherwise).
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector, TracerContext } from "../framework/types";
import { hostCgroups } from "../pod/cgroup_reader";
import { procPath, readTextAsync } from "../procfs/root";
import { normalContainers } from "./containers";
import { chooseTaskCountSource, emitContainerTasks, readContainersTasks, type TaskCountSource } from "./loadavg_container";

export interface LoadAvg {
  load1: number;
  load5: number;
  load15: number;
}

/** Parses `0.30 0.20 0.22 2/611 284513`: the first three fields are the averages. */
export function parseLoadAvg(text: string): LoadAvg {
  const [load1 = NaN, load5 = NaN, load15 = NaN] = text.trim().split(/\s+/).map(Number);
  if (![load1, load5, load15].every(Number.isFinite)) {
    throw new Error(`/proc/loadavg: malformed ${JSON.stringify(text.trim())}`);
  }
  return { load1, load5, load15 };
}

class LoadAvgCollector implements MetricCollector {
  constructor(
    private readonly ctx: TracerContext,
    private readonly source: TaskCountSource,
  ) {}

  async collect(emit: Emitter): Promise<void> {
    const avg = parseLoadAvg(await readTextAsync(procPath("loadavg")));
    emit.gauge("load1", "system load average, 1 minute", avg.load1);
    emit.gauge("load5", "system load average, 5 minutes", avg.load5);
    emit.gauge("load15", "system load average, 15 minutes", avg.load15);
    for (const [c, counts] of await readContainersTasks(this.source, hostCgroups(), normalContainers(this.ctx))) {
      emitContainerTasks(emit.forContainer(c), counts);
    }
  }
}

registerTracer({
  name: "loadavg",
  kind: "metric",
  description: "host load averages from /proc/loadavg, container R and D task counts",
  create: async (ctx) => {
    const source = await chooseTaskCountSource(hostCgroups());
    if (source.kind === "cgroupstats") {
      ctx.log.info("loadavg: container task counts from cgroupstats over generic netlink", { family: source.family });
    } else {
      ctx.log.info("loadavg: container task counts from task states in /proc", { reason: source.reason });
    }
    const hook = source.kind === "cgroupstats" ? "netlink:cgroupstats" : "procfs";
    return { hook, collector: new LoadAvgCollector(ctx, source) };
  },
});
