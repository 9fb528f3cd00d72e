// The filters shared by `events list` and `events tail`: flag values checked into a query (a bad one is a one-line
// usage error), and the test of one document against it.
import type { Document } from "../../storage/document";
import { parseTracerTime } from "../../storage/time";
import { MAX_PATTERN_LENGTH } from "../../watch/filters";
import { UsageError } from "../run";

export interface QueryFlags {
  tracer?: string;
  container?: string;
  namespace?: string;
  hostname?: string;
  region?: string;
  since?: string;
  until?: string;
  limit?: string;
}

export interface EventQuery {
  tracer?: RegExp;
  /** Matches container_id or container_hostname. */
  container?: RegExp;
  namespace?: RegExp;
  hostname?: RegExp;
  region?: RegExp;
  /** Milliseconds since the epoch. */
  since?: number;
  until?: number;
  limit?: number;
}

const RELATIVE = /^(\d+)(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseQuery(flags: QueryFlags, now = Date.now()): EventQuery {
  return {
    tracer: regexFlag("--tracer", flags.tracer),
    container: regexFlag("--container", flags.container),
    namespace: regexFlag("--namespace", flags.namespace),
    hostname: regexFlag("--hostname", flags.hostname),
    region: regexFlag("--region", flags.region),
    since: timeFlag("--since", flags.since, now),
    until: timeFlag("--until", flags.until, now),
    limit: limitFlag(flags.limit),
  };
}

/** Same syntax and length limit as the watch stream's filters, so a pattern means the same in list and tail. */
export function regexFlag(flag: string, text: string | undefined): RegExp | undefined {
  if (text === undefined || text === "") return undefined;
  if (text.length > MAX_PATTERN_LENGTH) throw new UsageError(`${flag}: at most ${MAX_PATTERN_LENGTH} characters`);
  try {
    return new RegExp(text);
  } catch (err) {
    throw new UsageError(`${flag}: invalid regular expression ${JSON.stringify(text)}: ${(err as Error).message}`);
  }
}

/** `30s`, `15m`, `2h`, `7d` ago, or an absolute time: ISO 8601 or `2025-06-11 16:05:16` (local time). */
export function timeFlag(flag: string, text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  const rel = RELATIVE.exec(text.trim());
  if (rel) return now - Number(rel[1]) * UNIT_MS[rel[2]!]!;
  const ms = Date.parse(text.trim().replace(" ", "T"));
  if (Number.isNaN(ms)) {
    throw new UsageError(`${flag}: want a time like 2025-06-11T16:05:00+08:00 or a duration like 30m, 2h, 7d; got ${JSON.stringify(text)}`);
  }
  return ms;
}

function limitFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new UsageError(`--limit: want a positive integer, got ${JSON.stringify(text)}`);
  return Number(text);
}

/** The time a document is sorted and filtered by: its tracer_time. */
export function eventTime(doc: Document): number {
  return parseTracerTime(doc.tracer_time);
}

export function matchesQuery(q: EventQuery, doc: Document): boolean {
  if (q.tracer && !q.tracer.test(doc.tracer_name)) return false;
  if (q.container && !q.container.test(doc.container_id ?? "") && !q.container.test(doc.container_hostname ?? "")) {
    return false;
  }
  if (q.namespace && !q.namespace.test(doc.container_host_namespace ?? "")) return false;
  if (q.hostname && !q.hostname.test(doc.hostname)) return false;
  if (q.region && !q.region.test(doc.region)) return false;
  if (q.since === undefined && q.until === undefined) return true;
  const t = eventTime(doc);
  return !(q.since !== undefined && t < q.since) && !(q.until !== undefined && t > q.until);
}
