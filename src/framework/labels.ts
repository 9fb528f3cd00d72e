// Label text of the Prometheus exposition format: `name="value"` pairs, escaped once and reused by many samples.
import type { Labels } from "./types";

const NEEDS_ESCAPE = /[\\\n"]/;

/** A label value as the text format wants it: backslash, newline and double quote escaped. */
export function escapeLabelValue(value: string): string {
  if (!NEEDS_ESCAPE.test(value)) return value;
  return value.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
}

/** `a="1",b="2"` in the record's key order, without braces; "" for no labels. */
export function renderLabels(labels: Labels): string {
  let text = "";
  for (const key in labels) text += `${text ? "," : ""}${key}="${escapeLabelValue(labels[key]!)}"`;
  return text;
}

/** `{a="1",b="2"}` of the non-empty label texts, or "" when all are empty (a sample without labels). */
export function labelBlock(...texts: string[]): string {
  const body = texts.filter((t) => t !== "").join(",");
  return body ? `{${body}}` : "";
}

/** `block` with one more label at its end: histogram buckets carry `le` after every other label. */
export function appendLabel(block: string, key: string, value: string): string {
  const pair = `${key}="${escapeLabelValue(value)}"`;
  return block ? `${block.slice(0, -1)},${pair}}` : `{${pair}}`;
}

const PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const UNESCAPE: Record<string, string> = { "\\\\": "\\", "\\n": "\n", '\\"': '"' };

/** The labels of a rendered `{...}` block, in order: the inverse of labelBlock for tests and reports. */
export function parseLabelBlock(block: string): Labels {
  const labels: Labels = {};
  for (const [, key, raw] of block.matchAll(PAIR)) labels[key!] = raw!.replace(/\\[\\n"]/g, (e) => UNESCAPE[e]!);
  return labels;
}
