// The body of POST /v1/events/watch: `{"filters": {<field>: "<regex>"}}`, validated and compiled once per client.
// Every non-empty filter must match (AND); a regex matches anywhere in the field unless anchored, as in the original.
import type { Document } from "../storage/document";

/** The seed's five fields, plus container_qos which the original also accepts. */
export const FILTER_FIELDS = [
  "tracer_name",
  "hostname",
  "container_hostname",
  "container_host_namespace",
  "container_qos",
  "region",
] as const;
export type FilterField = (typeof FILTER_FIELDS)[number];
export type WatchFilter = Partial<Record<FilterField, RegExp>>;

/**
 * Patterns are short and the fields they run on are short (names, at most a few hundred bytes), which keeps the
 * cost of a backtracking pattern bounded on the event path.
 */
export const MAX_PATTERN_LENGTH = 256;

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const fail = (error: string): Parsed<never> => ({ ok: false, error });

/** `{}`, `{"filters": {...}}`, or an empty body; unknown keys are errors, so a typo never silently matches all. */
export function parseWatchRequest(body: unknown): Parsed<WatchFilter> {
  if (body === undefined) return { ok: true, value: {} };
  if (!isObject(body)) return fail("request body must be a JSON object");
  const extra = Object.keys(body).filter((k) => k !== "filters");
  if (extra.length > 0) return fail(`unknown field ${JSON.stringify(extra[0])}; the body is {"filters": {...}}`);
  if (body.filters === undefined || body.filters === null) return { ok: true, value: {} };
  if (!isObject(body.filters)) return fail("filters must be an object of field: regex");
  return compileFilters(body.filters);
}

export function compileFilters(raw: Record<string, unknown>): Parsed<WatchFilter> {
  const filter: WatchFilter = {};
  for (const [key, pattern] of Object.entries(raw)) {
    if (!(FILTER_FIELDS as readonly string[]).includes(key)) {
      return fail(`unknown filter ${JSON.stringify(key)}; known: ${FILTER_FIELDS.join(", ")}`);
    }
    if (typeof pattern !== "string") return fail(`filters.${key} must be a string (a regular expression)`);
    if (pattern.length > MAX_PATTERN_LENGTH) {
      return fail(`filters.${key} is ${pattern.length} characters; at most ${MAX_PATTERN_LENGTH}`);
    }
    if (pattern === "") continue;
    try {
      filter[key as FilterField] = new RegExp(pattern);
    } catch (err) {
      return fail(`filters.${key}: invalid regular expression: ${(err as Error).message}`);
    }
  }
  return { ok: true, value: filter };
}

/** Equal for filters with the same patterns: tells a resuming client's earlier connection from another client's. */
export function filterKey(filter: WatchFilter): string {
  return JSON.stringify(FILTER_FIELDS.map((key) => filter[key]?.source ?? ""));
}

/** The fields filters look at: a document, or the copy of them the backlog keeps. */
export type FilterFields = Partial<Record<FilterField, string>>;

export function filterFields(doc: Document): FilterFields {
  const fields: FilterFields = {};
  for (const key of FILTER_FIELDS) if (doc[key] !== undefined) fields[key] = doc[key];
  return fields;
}

/** A field the document lacks (a host event has no container fields) is the empty string. */
export function matches(filter: WatchFilter, fields: FilterFields): boolean {
  for (const key of FILTER_FIELDS) {
    const re = filter[key];
    if (re && !re.test(fields[key] ?? "")) return false;
  }
  return true;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
