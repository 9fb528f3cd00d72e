// memory_vmstat: host /proc/vmstat counters selected by [MetricCollector.Vmstat] IncludedOnHost/ExcludedOnHost.
// Container series will come from cgroup memory.stat, which has the same format and goes through the same helpers.
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector, TracerContext } from "../framework/types";
import { procPath, readTextAsync } from "../procfs/root";
import { filterKeys } from "./filter";
import { parseFlatKeyed } from "./parse";

class VmstatCollector implements MetricCollector {
  constructor(private readonly ctx: TracerContext) {}

  async collect(emit: Emitter): Promise<void> {
    const { IncludedOnHost, ExcludedOnHost } = this.ctx.config.get().MetricCollector.Vmstat;
    const text = await readTextAsync(procPath("vmstat"));
    for (const [key, value] of filterKeys(parseFlatKeyed(text), IncludedOnHost, ExcludedOnHost)) {
      emit.gauge(key, `/proc/vmstat ${key}`, value);
    }
  }
}

registerTracer({
  name: "memory_vmstat",
  kind: "metric",
  description: "host memory counters from /proc/vmstat",
  create: (ctx) => ({ hook: "procfs", collector: new VmstatCollector(ctx) }),
});
