// Accumulates the samples of one scrape into metric families named `huatuo_bamai_<collector>_<metric>`.
import type { Container } from "../pod/types";
import { containerLabels } from "../pod/types";
import type { Emitter, HistogramValue, Labels } from "./types";

export type FamilyType = "gauge" | "counter" | "histogram";

export interface Sample {
  /** Full sample name: the family name, or `<family>_bucket|_sum|_count` for histograms. */
  metricName: string;
  labels: Labels;
  value: number;
}

export interface Family {
  name: string;
  help: string;
  type: FamilyType;
  samples: Sample[];
}

export const METRIC_PREFIX = "huatuo_bamai";

/** Families of one scrape, shared by every collector's emitter. */
export class FamilySet {
  private readonly families = new Map<string, Family>();

  constructor(private readonly baseLabels: Labels) {}

  /** An emitter writing `huatuo_bamai_<collector>_*` families. */
  emitterFor(collector: string): Emitter {
    return new FamilyEmitter(this, `${METRIC_PREFIX}_${collector}_`, {});
  }

  add(name: string, help: string, type: FamilyType, samples: Sample[]): void {
    let family = this.families.get(name);
    if (!family) {
      family = { name, help, type, samples: [] };
      this.families.set(name, family);
    } else if (family.type !== type) {
      throw new Error(`metric ${name} emitted as ${type} after ${family.type}`);
    }
    family.samples.push(...samples);
  }

  withBase(labels: Labels): Labels {
    return { ...labels, ...this.baseLabels };
  }

  all(): Family[] {
    return [...this.families.values()];
  }
}

class FamilyEmitter implements Emitter {
  constructor(
    private readonly set: FamilySet,
    private readonly prefix: string,
    private readonly extraLabels: Labels,
  ) {}

  gauge(name: string, help: string, value: number, labels: Labels = {}): void {
    this.scalar(name, help, "gauge", value, labels);
  }

  counter(name: string, help: string, value: number, labels: Labels = {}): void {
    this.scalar(name, help, "counter", value, labels);
  }

  histogram(name: string, help: string, value: HistogramValue, labels: Labels = {}): void {
    const full = this.prefix + name;
    const base = this.labelsOf(labels);
    const samples: Sample[] = value.buckets.map(([le, count]) => ({
      metricName: `${full}_bucket`,
      labels: { ...base, le: formatBound(le) },
      value: count,
    }));
    samples.push({ metricName: `${full}_bucket`, labels: { ...base, le: "+Inf" }, value: value.count });
    samples.push({ metricName: `${full}_sum`, labels: base, value: value.sum });
    samples.push({ metricName: `${full}_count`, labels: base, value: value.count });
    this.set.add(full, help, "histogram", samples);
  }

  forContainer(container: Container): Emitter {
    return new FamilyEmitter(this.set, `${this.prefix}container_`, {
      ...this.extraLabels,
      ...containerLabels(container),
    });
  }

  private scalar(name: string, help: string, type: FamilyType, value: number, labels: Labels): void {
    const full = this.prefix + name;
    this.set.add(full, help, type, [{ metricName: full, labels: this.labelsOf(labels), value }]);
  }

  private labelsOf(labels: Labels): Labels {
    return this.set.withBase({ ...this.extraLabels, ...labels });
  }
}

function formatBound(le: number): string {
  return Number.isInteger(le) ? le.toFixed(1) : String(le);
}
