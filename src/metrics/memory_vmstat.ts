// memory_vmstat: host /proc/vmstat counters selected by [MetricCollector.Vmstat] IncludedOnHost/ExcludedOnHost, and
// per Normal container its cgroup memory.stat (same format) selected by IncludedOnContainer/ExcludedOnContainer.
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector, TracerContext } from "../framework/types";
import { hostCgroups } from "../pod/cgroup_reader";
import { procPath, readTextAsync } from "../procfs/root";
import { normalContainers, readEach } from "./containers";
import { filterKeys } from "./filter";
import { parseFlatKeyed } from "./parse";

class VmstatCollector implements MetricCollector {
  constructor(private readonly ctx: TracerContext) {}

  async collect(emit: Emitter): Promise<void> {
    const cfg = this.ctx.config.get().MetricCollector.Vmstat;
    const text = await readTextAsync(procPath("vmstat"));
    for (const [key, value] of filterKeys(parseFlatKeyed(text), cfg.IncludedOnHost, cfg.ExcludedOnHost)) {
      emit.gauge(key, `/proc/vmstat ${key}`, value);
    }
    const fs = hostCgroups();
    for (const [c, stat] of await readEach(normalContainers(this.ctx), (c) => fs.read(c, "memory", "memory.stat"))) {
      const out = emit.forContainer(c);
      for (const [key, value] of filterKeys(parseFlatKeyed(stat), cfg.IncludedOnContainer, cfg.ExcludedOnContainer)) {
        out.gauge(key, `cgroup memory.stat ${key}`, value);
      }
    }
  }
}

registerTracer({
  name: "memory_vmstat",
  kind: "metric",
  description: "host memory counters from /proc/vmstat, container counters from cgroup memory.stat",
  create: (ctx) => ({ hook: "procfs", collector: new VmstatCollector(ctx) }),
});
