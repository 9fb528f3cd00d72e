// Walks a schema against a parsed TOML tree: fills defaults, reports unknown keys and bad values,
// and lists every key with its default and doc.
import { describe, isTable, suggest } from "./checks";
import type { Fields, InferFields, Issue, Node, Section } from "./dsl";

/** One documented key of the config file. Entries of `[[Table]]` lists appear as `Table[].Field`. */
export interface KeyDoc {
  path: string;
  type: string;
  /** Undefined for the fields of `[[Table]]` entries, which are required. */
  default: unknown;
  doc: string;
}

const join = (prefix: string, key: string): string => (prefix ? `${prefix}.${key}` : key);

export function decodeSection<F extends Fields>(
  section: Section<F>,
  raw: unknown,
  path: string,
  issues: Issue[],
): InferFields<F> | undefined {
  if (!isTable(raw)) {
    issues.push({ path, message: `must be a table ([${path}] section), got ${describe(raw)}` });
    return undefined;
  }
  const value = decodeTable(section.fields, raw, path, issues, "default") as InferFields<F> | undefined;
  if (value === undefined || section.check === undefined) return value;
  const problems = section.check(value);
  for (const { key, message } of problems) issues.push({ path: key ? join(path, key) : path, message });
  return problems.length === 0 ? value : undefined;
}

/** Decodes one table against `fields`; a missing key takes its default, or is an error when required. */
export function decodeTable(
  fields: Fields,
  table: Record<string, unknown>,
  path: string,
  issues: Issue[],
  missing: "default" | "required",
): Record<string, unknown> | undefined {
  const before = issues.length;
  reportUnknown(fields, table, path, issues);
  const out: Record<string, unknown> = {};
  for (const [key, node] of Object.entries(fields)) {
    const keyPath = join(path, key);
    if (Object.hasOwn(table, key)) {
      out[key] = decodeNode(node, table[key], keyPath, issues);
    } else if (missing === "default") {
      out[key] = defaultOf(node);
    } else {
      issues.push({ path: keyPath, message: `is missing (every entry needs ${Object.keys(fields).join(" and ")})` });
    }
  }
  return issues.length === before ? out : undefined;
}

function decodeNode(node: Node, raw: unknown, path: string, issues: Issue[]): unknown {
  return node.kind === "leaf" ? node.decode(raw, path, issues) : decodeSection(node, raw, path, issues);
}

function reportUnknown(fields: Fields, table: Record<string, unknown>, path: string, issues: Issue[]): void {
  const known = Object.keys(fields);
  for (const key of Object.keys(table)) {
    if (Object.hasOwn(fields, key)) continue;
    const what = isTable(table[key]) ? "section" : "key";
    const hint = suggest(key, known);
    const message = `unknown ${what} ${join(path, key)}${hint ? ` (did you mean ${hint}?)` : ""}`;
    issues.push({ path: join(path, key), message, unknown: true });
  }
}

/** A fresh copy of the defaults, safe for the caller to own. */
export function defaultOf(node: Node): unknown {
  if (node.kind === "leaf") return structuredClone(node.default);
  return Object.fromEntries(Object.entries(node.fields as Fields).map(([k, n]) => [k, defaultOf(n)]));
}

export function listKeys(fields: Fields, prefix = ""): KeyDoc[] {
  return Object.entries(fields).flatMap(([key, node]): KeyDoc[] => {
    const path = join(prefix, key);
    if (node.kind === "section") return listKeys(node.fields, path);
    const self: KeyDoc = { path, type: node.type, default: node.default, doc: node.doc };
    const items = node.items ? listKeys(node.items, `${path}[]`) : [];
    return [self, ...items.map((k) => ({ ...k, default: undefined }))];
  });
}
