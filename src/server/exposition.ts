// Renders one scrape in the Prometheus text format: collector families and per-collector scrape meta-metrics,
// followed by the self registry (prom-client) with its default host/region labels.
import client from "prom-client";
import { FamilySet, METRIC_PREFIX, type Family } from "../framework/families";
import type { ScrapeResult } from "../framework/manager";
import { TextBytes } from "../framework/text_bytes";

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

/** Text format for plain families (tests, small reports): the same writer as a scrape's. */
export function formatFamilies(families: Family[]): string {
  const set = new FamilySet({});
  for (const f of families) set.add(f.name, f.help, f.type, f.samples);
  return set.render();
}

/** Size of the last exposition: the next one is probably as large, so its buffer is allocated once. */
let lastBytes = 64 * 1024;

/**
 * The whole scrape as UTF-8: collector families, `extra` and the per-collector meta-metrics sorted together by name,
 * written directly rather than through prom-client to keep per-scrape garbage low, then the self registry. Adds to
 * `result.set`, which is per scrape.
 */
export async function renderExposition(
  result: ScrapeResult,
  baseLabels: Record<string, string>,
  selfRegistry: client.Registry,
  extra: Family[] = [],
): Promise<Uint8Array<ArrayBuffer>> {
  for (const f of [...extra, ...scrapeMetaFamilies(result, baseLabels)]) result.set.add(f.name, f.help, f.type, f.samples);
  const out = new TextBytes(lastBytes + (lastBytes >> 3));
  result.set.writeTo(out);
  out.write(await selfRegistry.metrics());
  const bytes = out.bytes();
  lastBytes = bytes.length;
  return bytes;
}

export const EXPOSITION_CONTENT_TYPE = client.Registry.PROMETHEUS_CONTENT_TYPE;
