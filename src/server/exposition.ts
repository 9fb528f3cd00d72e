// Renders one scrape in the Prometheus text format: collector families and per-collector scrape meta-metrics,
// followed by the self registry (prom-client) with its default host/region labels.
import client from "prom-client";
import type { Family, Sample } from "../framework/families";
import { METRIC_PREFIX } from "../framework/families";
import type { ScrapeResult } from "../framework/manager";

function scrapeMetaFamilies(result: ScrapeResult, baseLabels: Record<string, string>): Family[] {
  const duration: Family = {
    name: `${METRIC_PREFIX}_scrape_collector_duration_seconds`,
    help: "Duration of a collector scrape",
    type: "gauge",
    samples: [],
  };
  const success: Family = {
    name: `${METRIC_PREFIX}_scrape_collector_success`,
    help: "Whether a collector succeeded",
    type: "gauge",
    samples: [],
  };
  for (const [collector, seconds] of result.durations) {
    const labels = { ...baseLabels, collector };
    duration.samples.push({ metricName: duration.name, labels, value: seconds });
    success.samples.push({ metricName: success.name, labels, value: result.success.get(collector) ? 1 : 0 });
  }
  return [duration, success];
}

const escapeHelp = (text: string) => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
const escapeLabel = (text: string) => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

function formatSample(sample: Sample): string {
  const labels = Object.entries(sample.labels);
  const labelText = labels.length ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(",")}}` : "";
  return `${sample.metricName}${labelText} ${formatValue(sample.value)}`;
}

/** Text format for families; written directly rather than through prom-client to keep per-scrape garbage low. */
export function formatFamilies(families: Family[]): string {
  const out: string[] = [];
  for (const family of [...families].sort((a, b) => a.name.localeCompare(b.name))) {
    out.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const sample of family.samples) out.push(formatSample(sample));
  }
  return out.length ? out.join("\n") + "\n" : "";
}

export async function renderExposition(
  result: ScrapeResult,
  baseLabels: Record<string, string>,
  selfRegistry: client.Registry,
  extra: Family[] = [],
): Promise<string> {
  const families = [...result.families, ...extra, ...scrapeMetaFamilies(result, baseLabels)];
  return formatFamilies(families) + (await selfRegistry.metrics());
}

export const EXPOSITION_CONTENT_TYPE = client.Registry.PROMETHEUS_CONTENT_TYPE;
