// Value checks shared by the config schema DSL: regex compilation, URL lists, listen addresses,
// human-readable descriptions of raw TOML values and "did you mean" suggestions.

/** A checked value, or why it was rejected (the message names no key; the caller adds it). */
export type Refined<T> = { value: T } | { error: string };

export const ok = <T>(value: T): Refined<T> => ({ value });
export const fail = (error: string): { error: string } => ({ error });

/** How a raw TOML value reads in an error message: `string "abc"`, `140`, `table`, ... */
export function describe(raw: unknown): string {
  if (typeof raw === "string") return `string ${JSON.stringify(raw)}`;
  if (typeof raw === "number" || typeof raw === "bigint" || typeof raw === "boolean") return String(raw);
  if (raw instanceof Date) return "datetime";
  if (Array.isArray(raw)) return "array";
  if (isTable(raw)) return "table";
  return typeof raw;
}

export function isTable(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === "object" && raw !== null && !Array.isArray(raw) && !(raw instanceof Date);
}

export const mismatch = (expected: string, raw: unknown): { error: string } =>
  fail(`must be ${expected}, got ${describe(raw)}`);

/** Compiles as a JavaScript RegExp, the engine every filter in the agent uses. */
export function checkRegex(pattern: string): Refined<string> {
  try {
    new RegExp(pattern);
    return ok(pattern);
  } catch (e) {
    const why = (e as Error).message.replace(/^Invalid regular expression:\s*/, "");
    return fail(`invalid regular expression ${JSON.stringify(pattern)}: ${why}`);
  }
}

/** Comma-separated http(s) URLs with a host; "" is allowed (the feature is then off). */
export function checkHttpUrls(text: string): Refined<string> {
  if (text.trim() === "") return ok(text);
  for (const part of text.split(",").map((p) => p.trim())) {
    let url: URL;
    try {
      url = new URL(part);
    } catch {
      return fail(`${JSON.stringify(part)} is not a URL (expected e.g. "http://127.0.0.1:9200")`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      return fail(`${JSON.stringify(part)} must use http or https, got ${url.protocol.slice(0, -1)}`);
    }
    if (url.hostname === "") return fail(`${JSON.stringify(part)} has no host`);
  }
  return ok(text);
}

const HOSTNAME = /^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/;
const IPV6 = /^[0-9A-Fa-f:.]+(%[\w.-]+)?$/;

/** `host:port` as a listener takes it: empty host = all interfaces, IPv6 hosts in brackets. */
export function checkListenAddress(text: string): Refined<string> {
  const bad = fail(
    `must be host:port with a port 1..65535 (e.g. ":19704", "127.0.0.1:19704", "[::1]:19704"), got ${JSON.stringify(text)}`,
  );
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(text);
  if (!m) return bad;
  const [, v6, host = "", port] = m;
  if (Number(port) < 1 || Number(port) > 65535) return bad;
  if (v6 !== undefined) return v6.includes(":") && IPV6.test(v6) ? ok(text) : bad;
  return host === "" || HOSTNAME.test(host) ? ok(text) : bad;
}

/** The closest candidate to a misspelt key, if it is close enough to be a plausible typo. */
export function suggest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = Infinity;
  for (const c of candidates) {
    const a = key.toLowerCase();
    const b = c.toLowerCase();
    const score = a.startsWith(b) || b.startsWith(a) ? Math.abs(a.length - b.length) / 2 : editDistance(a, b);
    if (score < bestScore) [best, bestScore] = [c, score];
  }
  return bestScore <= Math.max(1, Math.floor(key.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}
