// Tracer status as a metric: `huatuo_bamai_tracer_up{tracer,hook}` is 1 while running, 0 otherwise.
import type { Family } from "../framework/families";
import { METRIC_PREFIX } from "../framework/families";
import type { TracerStatus } from "../framework/manager";

export function tracerUpFamily(statuses: TracerStatus[], baseLabels: Record<string, string>): Family {
  const name = `${METRIC_PREFIX}_tracer_up`;
  return {
    name,
    help: "Whether a tracer is running (1) or disabled, unsupported or failed (0), with the hook it runs on",
    type: "gauge",
    samples: statuses.map((s) => ({
      metricName: name,
      labels: { ...baseLabels, tracer: s.name, hook: s.hook },
      value: s.status === "running" ? 1 : 0,
    })),
  };
}

/** One log line's fields for a tracer, as `run` reports them at startup. */
export function statusFields(s: TracerStatus): Record<string, string | number> {
  const fields: Record<string, string | number> = { tracer: s.name, kind: s.kind, status: s.status };
  if (s.hook) fields.hook = s.hook;
  if (s.reason) fields.reason = s.reason;
  return fields;
}
