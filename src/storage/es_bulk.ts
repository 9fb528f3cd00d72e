// The Elasticsearch/OpenSearch `_bulk` protocol as pure functions: the NDJSON body, and which items of a response
// were stored, should be retried, or were refused for good. Same wire format on ES 7, ES 8 and OpenSearch 2.

/** One document as its two NDJSON lines: the `index` action (upsert by `_id` = tracer_id) and the source. */
export function bulkEntry(index: string, id: string, source: string): string {
  return `${JSON.stringify({ index: { _index: index, _id: id } })}\n${source}\n`;
}

export type Verdict = "stored" | "retry" | "rejected";

/** What to do with a whole request that got this status; 200 means "look at the items". */
export function statusVerdict(status: number): Verdict | "items" {
  if (status >= 200 && status < 300) return "items";
  // 401/403: a password or role fixed on the cluster side makes the same request succeed later.
  if (status === 408 || status === 429 || status >= 500 || status === 401 || status === 403) return "retry";
  return "rejected";
}

interface BulkItemResult {
  status?: number;
  error?: { type?: string; reason?: string };
}

export interface BulkResponse {
  errors?: boolean;
  items?: Array<Record<string, BulkItemResult>>;
}

export interface ItemVerdicts {
  verdicts: Verdict[];
  /** The first error reason in the response, for one log line. */
  firstError?: string;
}

/**
 * Verdict per sent document, in order. An item missing from the response is retried: the cluster did not say it
 * stored it, and `index` with the same `_id` cannot duplicate it.
 */
export function itemVerdicts(body: BulkResponse, count: number): ItemVerdicts {
  const verdicts: Verdict[] = [];
  let firstError: string | undefined;
  for (let i = 0; i < count; i++) {
    const item = body.items?.[i];
    const result = item ? Object.values(item)[0] : undefined;
    const status = result?.status ?? 0;
    if (status >= 200 && status < 300) {
      verdicts.push("stored");
      continue;
    }
    verdicts.push(status === 0 || status === 429 || status >= 500 ? "retry" : "rejected");
    if (result?.error && !firstError) firstError = `${result.error.type ?? "error"}: ${result.error.reason ?? ""}`;
  }
  return { verdicts, firstError };
}

/** `http://a:9200, https://b` → base URLs without a trailing slash. */
export function parseAddresses(text: string): string[] {
  return text
    .split(",")
    .map((a) => a.trim().replace(/\/+$/, ""))
    .filter(Boolean);
}

export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}
