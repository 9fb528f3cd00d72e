// Accumulates the samples of one scrape into metric families named `huatuo_bamai_<collector>_<metric>`.
// Samples are kept column-wise with label text built as they arrive: a container's five labels are rendered once per
// Container object and host/region once per set, so hundreds of containers cost no per-sample label maps.
import type { Container } from "../pod/types";
import { containerLabels } from "../pod/types";
import { appendLabel, labelBlock, parseLabelBlock, renderLabels } from "./labels";
import type { TextBytes } from "./text_bytes";
import type { Emitter, HistogramValue, Labels } from "./types";

export type FamilyType = "gauge" | "counter" | "histogram";

/** One sample as tests and reports read it; `FamilySet.all()` builds these on demand. */
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

/**
 * Labels many samples share, rendered once. A sample without labels of its own prints `bare`, one with labels prints
 * `open` + its labels + `close`: container labels first, then the sample's, then host and region (as ever).
 */
interface Scope {
  bare: string;
  open: string;
  close: string;
  /** The scope's own labels: a container's five, none for the host. */
  labels: Labels;
  /** Names a sample's labels must not repeat; a sample that does is merged the slow way. */
  taken: ReadonlySet<string>;
}

function makeScope(labels: Labels, base: Labels, baseText: string): Scope {
  const own = renderLabels(labels);
  return {
    bare: labelBlock(own, baseText),
    open: own ? `{${own},` : "{",
    close: baseText ? `,${baseText}}` : "}",
    labels,
    taken: new Set([...Object.keys(labels), ...Object.keys(base)]),
  };
}

/** Per Container object (the pod layer makes a new one when anything about a container changes). */
const containerScopes = new WeakMap<Container, { baseText: string; scope: Scope }>();

/** One family's samples, column by column. */
class Columns {
  /** Per sample: its scope when it has no labels of its own (the scope's text is shared), else its whole block. */
  readonly blocks: Array<Scope | string> = [];
  readonly values: number[] = [];
  /** Per sample name, kept only once one differs from the family's (histogram series). */
  private names?: string[];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: FamilyType,
  ) {}

  push(block: Scope | string, value: number, metricName = this.name): void {
    if (metricName !== this.name) this.names ??= this.values.map(() => this.name);
    this.names?.push(metricName);
    this.blocks.push(block);
    this.values.push(value);
  }

  append(other: Columns): void {
    for (let i = 0; i < other.values.length; i++) this.push(other.blocks[i]!, other.values[i]!, other.metricName(i));
  }

  metricName(i: number): string {
    return this.names ? this.names[i]! : this.name;
  }

  block(i: number): string {
    const block = this.blocks[i]!;
    return typeof block === "string" ? block : block.bare;
  }

  /** The family in the text format: HELP, TYPE, then one line per sample in emission order. */
  render(): string {
    let out = `# HELP ${this.name} ${escapeHelp(this.help)}\n# TYPE ${this.name} ${this.type}\n`;
    for (let i = 0; i < this.values.length; i++) {
      out += `${this.metricName(i)}${this.block(i)} ${formatValue(this.values[i]!)}\n`;
    }
    return out;
  }

  materialise(): Family {
    const samples = this.values.map((value, i) => ({ metricName: this.metricName(i), labels: parseLabelBlock(this.block(i)), value }));
    return { name: this.name, help: this.help, type: this.type, samples };
  }
}

const escapeHelp = (text: string) => text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");

function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** Families of one scrape (or of one collector's part of it), shared by every emitter made from it. */
export class FamilySet {
  private readonly families = new Map<string, Columns>();
  /** Families by the short name an emitter with that prefix uses, so a sample costs one small lookup. */
  private readonly byPrefix = new Map<string, Map<string, Columns>>();
  private readonly baseText: string;
  private readonly hostScope: Scope;

  constructor(private readonly baseLabels: Labels) {
    this.baseText = renderLabels(baseLabels);
    this.hostScope = makeScope({}, baseLabels, this.baseText);
  }

  /** An emitter writing `huatuo_bamai_<collector>_*` families. */
  emitterFor(collector: string): Emitter {
    return new FamilyEmitter(this, `${METRIC_PREFIX}_${collector}_`, this.hostScope);
  }

  /** Samples with complete label sets, printed as given (nothing added). */
  add(name: string, help: string, type: FamilyType, samples: Sample[]): void {
    const family = this.family(name, help, type);
    for (const s of samples) family.push(labelBlock(renderLabels(s.labels)), s.value, s.metricName);
  }

  /** Takes over the families of another set with the same base labels (a collector's, once it succeeded). */
  merge(other: FamilySet): void {
    for (const [name, theirs] of other.families) {
      const mine = this.families.get(name);
      if (!mine) this.families.set(name, theirs);
      else this.family(name, theirs.help, theirs.type).append(theirs);
    }
  }

  /** The family `name`, created on first use; one name never changes type within a scrape. */
  family(name: string, help: string, type: FamilyType): Columns {
    let family = this.families.get(name);
    if (!family) {
      family = new Columns(name, help, type);
      this.families.set(name, family);
    } else if (family.type !== type) {
      throw new Error(`metric ${name} emitted as ${type} after ${family.type}`);
    }
    return family;
  }

  familiesUnder(prefix: string): Map<string, Columns> {
    let byName = this.byPrefix.get(prefix);
    if (!byName) this.byPrefix.set(prefix, (byName = new Map()));
    return byName;
  }

  /** The scope of `container` inside `parent` (the host, unless an emitter for a container is asked again). */
  containerScope(container: Container, parent: Scope): Scope {
    if (parent !== this.hostScope) return makeScope({ ...parent.labels, ...containerLabels(container) }, this.baseLabels, this.baseText);
    const cached = containerScopes.get(container);
    if (cached?.baseText === this.baseText) return cached.scope;
    const scope = makeScope(containerLabels(container), this.baseLabels, this.baseText);
    containerScopes.set(container, { baseText: this.baseText, scope });
    return scope;
  }

  /** The whole block of a sample whose labels clash with its scope: merged as `{...scope, ...sample, ...base}`. */
  mergedBlock(scope: Scope, labels: Labels): string {
    return labelBlock(renderLabels({ ...scope.labels, ...labels, ...this.baseLabels }));
  }

  all(): Family[] {
    return [...this.families.values()].map((f) => f.materialise());
  }

  /** Every family in the text format, sorted by name; samples keep their emission order. */
  render(): string {
    let out = "";
    for (const name of this.sortedNames()) out += this.families.get(name)!.render();
    return out;
  }

  /** The same text as UTF-8, a family at a time: large scrapes never build one huge string. */
  writeTo(out: TextBytes): void {
    for (const name of this.sortedNames()) out.write(this.families.get(name)!.render());
  }

  private sortedNames(): string[] {
    return [...this.families.keys()].sort(byName);
  }
}

/** The order families have always been written in (localeCompare's), with one collator instead of one per call. */
const byName = new Intl.Collator().compare;

class FamilyEmitter implements Emitter {
  /** Prefix and families of this emitter's containers, found once for all of them. */
  private inner?: { prefix: string; byName: Map<string, Columns> };

  constructor(
    private readonly set: FamilySet,
    private readonly prefix: string,
    private readonly scope: Scope,
    private readonly byName = set.familiesUnder(prefix),
  ) {}

  gauge(name: string, help: string, value: number, labels?: Labels): void {
    this.scalar(name, help, "gauge", value, labels);
  }

  counter(name: string, help: string, value: number, labels?: Labels): void {
    this.scalar(name, help, "counter", value, labels);
  }

  histogram(name: string, help: string, value: HistogramValue, labels?: Labels): void {
    const family = this.familyOf(name, help, "histogram");
    const block = this.blockOf(labels);
    const bucket = `${family.name}_bucket`;
    for (const [le, count] of value.buckets) family.push(appendLabel(block, "le", formatBound(le)), count, bucket);
    family.push(appendLabel(block, "le", "+Inf"), value.count, bucket);
    family.push(block, value.sum, `${family.name}_sum`);
    family.push(block, value.count, `${family.name}_count`);
  }

  forContainer(container: Container): Emitter {
    const inner = (this.inner ??= this.containerFamilies());
    return new FamilyEmitter(this.set, inner.prefix, this.set.containerScope(container, this.scope), inner.byName);
  }

  private containerFamilies(): { prefix: string; byName: Map<string, Columns> } {
    const prefix = `${this.prefix}container_`;
    return { prefix, byName: this.set.familiesUnder(prefix) };
  }

  private scalar(name: string, help: string, type: FamilyType, value: number, labels: Labels | undefined): void {
    const family = this.familyOf(name, help, type);
    const text = labels === undefined ? "" : sampleText(this.scope, labels);
    family.push(text === "" ? this.scope : this.blockWith(labels!, text), value);
  }

  private familyOf(name: string, help: string, type: FamilyType): Columns {
    let family = this.byName.get(name);
    if (!family) this.byName.set(name, (family = this.set.family(this.prefix + name, help, type)));
    else if (family.type !== type) throw new Error(`metric ${family.name} emitted as ${type} after ${family.type}`);
    return family;
  }

  private blockOf(labels: Labels | undefined): string {
    const text = labels === undefined ? "" : sampleText(this.scope, labels);
    return text === "" ? this.scope.bare : this.blockWith(labels!, text);
  }

  /** The block of a sample with labels of its own (`text`, or undefined when they clash with the scope's). */
  private blockWith(labels: Labels, text: string | undefined): string {
    return text === undefined ? this.set.mergedBlock(this.scope, labels) : this.scope.open + text + this.scope.close;
  }
}

/** A sample's own label text, or undefined when it repeats a name of its scope or base labels. */
function sampleText(scope: Scope, labels: Labels): string | undefined {
  for (const key in labels) if (scope.taken.has(key)) return undefined;
  return renderLabels(labels);
}

function formatBound(le: number): string {
  return Number.isInteger(le) ? le.toFixed(1) : String(le);
}
