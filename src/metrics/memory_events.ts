// memory_events: per-container counters from cgroup memory.events (low, high, max, oom, oom_kill, ...).
// Container-only, as in the original: the host has no memory.events series, so without containers it emits nothing.
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector, TracerContext } from "../framework/types";
import { cgroupLayout, readCgroupFile } from "./cgroup";
import { filterKeys } from "./filter";
import { parseFlatKeyed } from "./parse";

class MemoryEventsCollector implements MetricCollector {
  constructor(private readonly ctx: TracerContext) {}

  async collect(emit: Emitter): Promise<void> {
    const containers = this.ctx.containers.list().filter((c) => c.type === "normal");
    if (containers.length === 0) return;
    const { Included, Excluded } = this.ctx.config.get().MetricCollector.MemoryEvents;
    const layout = await cgroupLayout();
    // Upstream cgroup v1 has no memory.events (some vendor kernels add it): a missing file means no series.
    const texts = await Promise.all(
      containers.map((c) => readCgroupFile(layout, "memory", c.cgroupPath, "memory.events")),
    );
    containers.forEach((container, i) => {
      const text = texts[i];
      if (text === undefined) return;
      const out = emit.forContainer(container);
      for (const [key, value] of filterKeys(parseFlatKeyed(text), Included, Excluded)) {
        out.gauge(key, `memory events ${key}`, value);
      }
    });
  }
}

registerTracer({
  name: "memory_events",
  kind: "metric",
  description: "container memory.events counters",
  create: (ctx) => ({ hook: "sysfs", collector: new MemoryEventsCollector(ctx) }),
});
