// Finds the line of every key and table header in TOML text, because @iarna/toml reports no positions.
// A light scan: it tracks [table] / [[array]] headers, (dotted) keys and values spanning lines.

/** Key path (`A.B`, `A.List[0].Field`) → 1-based line of its first appearance. */
export type KeyLines = Map<string, number>;

interface ValueState {
  depth: number;
  /** The closing delimiter of a multi-line string still open at the end of a line. */
  openString?: string;
}

export function scanKeyLines(text: string): KeyLines {
  const lines: KeyLines = new Map();
  const arrayCounts = new Map<string, number>();
  let table: string[] = [];
  let value: ValueState = { depth: 0 };
  text.split(/\r?\n/).forEach((line, i) => {
    if (value.depth > 0 || value.openString) {
      value = scanValue(line, 0, value);
      return;
    }
    const trimmed = line.trimStart();
    if (trimmed.startsWith("[")) {
      table = scanHeader(trimmed, i + 1, lines, arrayCounts) ?? table;
      return;
    }
    const key = parseKey(trimmed, 0);
    if (!key || trimmed[key.end] !== "=") return;
    record(lines, [...table, ...key.segments], i + 1);
    value = scanValue(trimmed, key.end + 1, { depth: 0 });
  });
  return lines;
}

/** The line of `path`, else of its closest ancestor that appears in the text. */
export function lineOf(lines: KeyLines, path: string): number | undefined {
  for (let p = path; p !== ""; p = p.replace(/(\[\d+\]|\.?[^.[]+)$/, "")) {
    const line = lines.get(p);
    if (line !== undefined) return line;
  }
  return undefined;
}

/** Records a `[a.b]` or `[[a.b]]` header and returns the table path that following keys belong to. */
function scanHeader(
  trimmed: string,
  line: number,
  lines: KeyLines,
  arrayCounts: Map<string, number>,
): string[] | undefined {
  const isArray = trimmed.startsWith("[[");
  const key = parseKey(trimmed, isArray ? 2 : 1);
  if (!key) return undefined;
  if (!isArray) {
    const path = indexed(key.segments, arrayCounts);
    record(lines, path, line);
    return path;
  }
  const path = [...indexed(key.segments.slice(0, -1), arrayCounts), key.segments[key.segments.length - 1]!];
  const name = path.join(".");
  const n = arrayCounts.get(name) ?? 0;
  arrayCounts.set(name, n + 1);
  record(lines, path, line);
  path[path.length - 1] += `[${n}]`;
  record(lines, path, line);
  return path;
}

/** Segments with `[i]` appended wherever a prefix names an array of tables (its latest entry). */
function indexed(segments: string[], arrayCounts: Map<string, number>): string[] {
  const out: string[] = [];
  for (const seg of segments) {
    out.push(seg);
    const n = arrayCounts.get(out.join("."));
    if (n !== undefined) out[out.length - 1] += `[${n - 1}]`;
  }
  return out;
}

/** Records the path and every ancestor not seen before. */
function record(lines: KeyLines, path: string[], line: number): void {
  for (let i = 1; i <= path.length; i++) {
    const p = path.slice(0, i).join(".");
    if (!lines.has(p)) lines.set(p, line);
  }
}

/** Parses `a."b.c".d` from `start`; `end` points past trailing spaces. */
function parseKey(s: string, start: number): { segments: string[]; end: number } | undefined {
  const segments: string[] = [];
  let i = start;
  for (;;) {
    while (s[i] === " " || s[i] === "\t") i++;
    const m = /^(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([A-Za-z0-9_-]+))/.exec(s.slice(i));
    if (!m) return undefined;
    segments.push(m[3] ?? m[2] ?? unescape(m[1]!));
    i += m[0].length;
    while (s[i] === " " || s[i] === "\t") i++;
    if (s[i] !== ".") return { segments, end: i };
    i++;
  }
}

function unescape(basic: string): string {
  try {
    return JSON.parse(`"${basic}"`) as string;
  } catch {
    return basic;
  }
}

/** Follows a value from `start` to the end of the line: bracket depth and open multi-line strings. */
function scanValue(s: string, start: number, state: ValueState): ValueState {
  let { depth, openString } = state;
  for (let i = start; i < s.length; i++) {
    if (openString) {
      if (openString === '"""' && s[i] === "\\") i++;
      else if (s.startsWith(openString, i)) [i, openString] = [i + 2, undefined];
      continue;
    }
    const c = s[i]!;
    if (c === "#") break;
    if (s.startsWith('"""', i) || s.startsWith("'''", i)) [i, openString] = [i + 2, s.slice(i, i + 3)];
    else if (c === '"' || c === "'") i = endOfString(s, i);
    else if (c === "[" || c === "{") depth++;
    else if (c === "]" || c === "}") depth--;
  }
  return { depth, openString };
}

function endOfString(s: string, open: number): number {
  const quote = s[open];
  for (let i = open + 1; i < s.length; i++) {
    if (quote === '"' && s[i] === "\\") i++;
    else if (s[i] === quote) return i;
  }
  return s.length;
}
