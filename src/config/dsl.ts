// A small declarative schema language for huatuo-bamai.conf: each leaf carries its default, its check and a
// one-line doc, and the TypeScript type of a decoded config is inferred from the schema itself.
import {
  checkHttpUrls,
  checkListenAddress,
  checkRegex,
  fail,
  isTable,
  mismatch,
  ok,
  type Refined,
} from "./checks";
import { decodeTable } from "./walk";

/** A problem found while decoding, addressed by key path (`A.B`, `A.List[0].Field`). */
export interface Issue {
  path: string;
  message: string;
  /** Unknown keys read "unknown key <path> ..." rather than "<path>: <message>". */
  unknown?: boolean;
}

export interface Leaf<T> {
  readonly kind: "leaf";
  /** What the value must be, for docs: "integer 0..100", "regex", ... */
  readonly type: string;
  readonly doc: string;
  readonly default: T;
  /** For arrays of tables: the fields of one entry. */
  readonly items?: Fields;
  /** The checked value, or undefined after pushing at least one issue. */
  readonly decode: (raw: unknown, path: string, issues: Issue[]) => T | undefined;
}

/** A cross-key rule of a section, run only when all its keys decoded cleanly. */
export type SectionCheck<V> = (value: V) => Array<{ key?: string; message: string }>;

export interface Section<F extends Fields> {
  readonly kind: "section";
  readonly doc: string;
  readonly fields: F;
  readonly check?: SectionCheck<InferFields<F>>;
}

// `any`: a section's check takes its own value type, so Section<F> is not assignable to Section<Fields>.
export type Node = Leaf<unknown> | Section<any>;
export type Fields = { readonly [key: string]: Node };

export type Infer<N> = N extends Leaf<infer T> ? T : N extends Section<infer F> ? InferFields<F> : never;
export type InferFields<F extends Fields> = { [K in keyof F]: Infer<F[K]> };

export function section<F extends Fields>(doc: string, fields: F, check?: SectionCheck<InferFields<F>>): Section<F> {
  return { kind: "section", doc, fields, check };
}

function leaf<T>(type: string, def: T, doc: string, refine: (raw: unknown) => Refined<T>): Leaf<T> {
  const decode = (raw: unknown, path: string, issues: Issue[]): T | undefined => {
    const r = refine(raw);
    if ("value" in r) return r.value;
    issues.push({ path, message: r.error });
    return undefined;
  };
  return { kind: "leaf", type, doc, default: def, decode };
}

export interface Range {
  min?: number;
  max?: number;
  /** Exclusive lower bound: "must be greater than". */
  above?: number;
}

function rangeText({ min, max, above }: Range): string {
  if (min !== undefined && max !== undefined) return ` ${min}..${max}`;
  if (above !== undefined) return max !== undefined ? ` > ${above}, <= ${max}` : ` > ${above}`;
  if (min !== undefined) return ` >= ${min}`;
  return max !== undefined ? ` <= ${max}` : "";
}

function inRange(n: number, { min, max, above }: Range): Refined<number> {
  if (min !== undefined && max !== undefined && (n < min || n > max)) {
    return fail(`must be between ${min} and ${max}, got ${n}`);
  }
  if (above !== undefined && n <= above) return fail(`must be greater than ${above}, got ${n}`);
  if (min !== undefined && n < min) return fail(`must be at least ${min}, got ${n}`);
  if (max !== undefined && n > max) return fail(`must be at most ${max}, got ${n}`);
  return ok(n);
}

export function int(def: number, doc: string, range: Range = {}): Leaf<number> {
  return leaf(`integer${rangeText(range)}`, def, doc, (raw) => {
    if (typeof raw === "bigint") return fail(`must be an integer that fits in 53 bits, got ${raw}`);
    return typeof raw === "number" && Number.isInteger(raw) ? inRange(raw, range) : mismatch("an integer", raw);
  });
}

export function float(def: number, doc: string, range: Range = {}): Leaf<number> {
  return leaf(`number${rangeText(range)}`, def, doc, (raw) =>
    typeof raw === "number" && Number.isFinite(raw) ? inRange(raw, range) : mismatch("a number", raw),
  );
}

export function bool(def: boolean, doc: string): Leaf<boolean> {
  return leaf("boolean", def, doc, (raw) => (typeof raw === "boolean" ? ok(raw) : mismatch("true or false", raw)));
}

export function str(def: string, doc: string, refine: (s: string) => Refined<string> = ok): Leaf<string> {
  return strLeaf("string", def, doc, refine);
}

function strLeaf(type: string, def: string, doc: string, refine: (s: string) => Refined<string>): Leaf<string> {
  return leaf(type, def, doc, (raw) => (typeof raw === "string" ? refine(raw) : mismatch("a string", raw)));
}

/** A string that must compile as a RegExp; "" means "no filter". */
export function regex(def: string, doc: string): Leaf<string> {
  return strLeaf("regex", def, doc, checkRegex);
}

/** Comma-separated http(s) URLs; "" means unset. */
export function urlList(def: string, doc: string): Leaf<string> {
  return strLeaf("comma-separated http(s) URLs", def, doc, checkHttpUrls);
}

export function listenAddress(def: string, doc: string): Leaf<string> {
  return strLeaf("host:port", def, doc, checkListenAddress);
}

/** One of fixed words, matched case-insensitively and stored in the spelling given here. */
export function enumOf<const V extends readonly string[]>(values: V, def: V[number], doc: string): Leaf<V[number]> {
  return strLeaf(values.join("|"), def, doc, oneOf(values)) as Leaf<V[number]>;
}

export function oneOf(values: readonly string[]): (s: string) => Refined<string> {
  return (s) => {
    const hit = values.find((v) => v.toLowerCase() === s.toLowerCase());
    return hit !== undefined ? ok(hit) : fail(`must be one of ${values.join(", ")}, got ${JSON.stringify(s)}`);
  };
}

export function nonEmpty(s: string): Refined<string> {
  return s.trim() === "" ? fail("must not be empty") : ok(s);
}

/** An array whose entries are each checked by `item`; a bad entry is reported as `Key[i]`. */
function arrayLeaf<T>(type: string, def: T[], doc: string, item: (v: unknown) => Refined<T>): Leaf<T[]> {
  const decode = (raw: unknown, path: string, issues: Issue[]): T[] | undefined => {
    if (!Array.isArray(raw)) return pushed(issues, path, mismatch(`an ${type}`, raw));
    const out: T[] = [];
    raw.forEach((v, i) => {
      const r = item(v);
      if ("value" in r) out.push(r.value);
      else issues.push({ path: `${path}[${i}]`, message: r.error });
    });
    return out.length === raw.length ? out : undefined;
  };
  return { kind: "leaf", type, doc, default: def, decode };
}

export function strList(
  def: string[],
  doc: string,
  item: (s: string) => Refined<string> = ok,
  type = "array of strings",
): Leaf<string[]> {
  return arrayLeaf(type, def, doc, (v) => (typeof v === "string" ? item(v) : mismatch("a string", v)));
}

/** `[["name", "regex"], ...]`: a label and the pattern that selects it (IssuesList). */
export function pairList(def: Array<[string, string]>, doc: string): Leaf<Array<[string, string]>> {
  return arrayLeaf(`array of ["name", "regex"] pairs`, def, doc, checkPair);
}

function checkPair(entry: unknown): Refined<[string, string]> {
  const shape = `must be a ["name", "regex"] pair`;
  if (!Array.isArray(entry)) return mismatch(`a ["name", "regex"] pair`, entry);
  if (entry.length !== 2) return fail(`${shape}, got an array of ${entry.length}`);
  const [name, pattern] = entry as unknown[];
  if (typeof name !== "string" || typeof pattern !== "string") return fail(`${shape} of strings`);
  if (name.trim() === "") return fail("issue name must not be empty");
  const r = checkRegex(pattern);
  return "value" in r ? ok([name, pattern]) : r;
}

/** `[[Key]]` tables, every field of every entry required; the default is no entries. */
export function tableList<F extends Fields>(doc: string, fields: F): Leaf<Array<InferFields<F>>> {
  const decode = (raw: unknown, path: string, issues: Issue[]): Array<InferFields<F>> | undefined => {
    if (!Array.isArray(raw)) return pushed(issues, path, mismatch(`an array of tables ([[${path}]])`, raw));
    const before = issues.length;
    const out = raw.map((entry, i) =>
      isTable(entry)
        ? decodeTable(fields, entry, `${path}[${i}]`, issues, "required")
        : pushed(issues, `${path}[${i}]`, mismatch("a table", entry)),
    );
    return issues.length === before ? (out as Array<InferFields<F>>) : undefined;
  };
  const names = Object.keys(fields).join(", ");
  return { kind: "leaf", type: `array of tables {${names}}`, doc, default: [], items: fields, decode };
}

function pushed(issues: Issue[], path: string, r: { error: string }): undefined {
  issues.push({ path, message: r.error });
  return undefined;
}
