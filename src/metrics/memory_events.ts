// memory_events: per-container counters from cgroup memory.events (low, high, max, oom, oom_kill, ...).
// Container-only, as in the original: the host has no memory.events series, so without containers it emits nothing.
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector, TracerContext } from "../framework/types";
import { hostCgroups } from "../pod/cgroup_reader";
import { normalContainers, readEach } from "./containers";
import { filterKeys } from "./filter";
import { parseFlatKeyed } from "./parse";

class MemoryEventsCollector implements MetricCollector {
  constructor(private readonly ctx: TracerContext) {}

  async collect(emit: Emitter): Promise<void> {
    const { Included, Excluded } = this.ctx.config.get().MetricCollector.MemoryEvents;
    const fs = hostCgroups();
    // Upstream cgroup v1 has no memory.events (some vendor kernels add it): a missing file means no series.
    const texts = await readEach(normalContainers(this.ctx), (c) => fs.read(c, "memory", "memory.events"));
    for (const [container, text] of texts) {
      const out = emit.forContainer(container);
      for (const [key, value] of filterKeys(parseFlatKeyed(text), Included, Excluded)) {
        out.gauge(key, `memory events ${key}`, value);
      }
    }
  }
}

registerTracer({
  name: "memory_events",
  kind: "metric",
  description: "container memory.events counters",
  create: (ctx) => ({ hook: "sysfs", collector: new MemoryEventsCollector(ctx) }),
});
