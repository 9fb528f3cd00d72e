// loadavg: host load averages over 1, 5 and 15 minutes from /proc/loadavg.
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector } from "../framework/types";
import { procPath, readTextAsync } from "../procfs/root";

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
  async collect(emit: Emitter): Promise<void> {
    const avg = parseLoadAvg(await readTextAsync(procPath("loadavg")));
    emit.gauge("load1", "system load average, 1 minute", avg.load1);
    emit.gauge("load5", "system load average, 5 minutes", avg.load5);
    emit.gauge("load15", "system load average, 15 minutes", avg.load15);
  }
}

registerTracer({
  name: "loadavg",
  kind: "metric",
  description: "host load averages from /proc/loadavg",
  create: () => ({ hook: "procfs", collector: new LoadAvgCollector() }),
});
