// Renders one scrape: collector families plus per-collector scrape meta-metrics, merged with the self registry.
import client from "prom-client";
import type { Family } from "../framework/families";
import { METRIC_PREFIX } from "../framework/families";
import type { ScrapeResult } from "../framework/manager";

/** A prom-client metric object built from one family of this scrape (prom-client only needs `get`). */
function asPromMetric(family: Family) {
  return {
    name: family.name,
    help: family.help,
    type: family.type,
    get: () => ({
      name: family.name,
      help: family.help,
      type: family.type,
      aggregator: "sum",
      values: family.samples,
    }),
  };
}

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

export async function renderExposition(
  result: ScrapeResult,
  baseLabels: Record<string, string>,
  selfRegistry: client.Registry,
  extra: Family[] = [],
): Promise<string> {
  const scrape = new client.Registry();
  const families = [...result.families, ...extra, ...scrapeMetaFamilies(result, baseLabels)];
  families.sort((a, b) => a.name.localeCompare(b.name));
  for (const family of families) scrape.registerMetric(asPromMetric(family) as unknown as client.Metric);
  return client.Registry.merge([scrape, selfRegistry]).metrics();
}

export const EXPOSITION_CONTENT_TYPE = client.Registry.PROMETHEUS_CONTENT_TYPE;
