// How events look in a terminal: the `events list` table and the one-line `events tail` form, coloured by the kind
// of tracer when stdout is a terminal and NO_COLOR is unset (FORCE_COLOR overrides both).
import { Chalk, type ChalkInstance } from "chalk";
import Table from "cli-table3";
import type { Document } from "../../storage/document";
import { summarize } from "./summary";

export function makeChalk(stream: { isTTY?: boolean } = process.stdout, env = process.env): ChalkInstance {
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== "0" && env.FORCE_COLOR !== "false") return new Chalk({ level: 1 });
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== "";
  return new Chalk({ level: stream.isTTY && !noColor ? 1 : 0 });
}

const NETWORK = /^(dropwatch|net_rx_latency|netdev_)/;
const MEMORY = /^(oom|memory_reclaim|memburst)/;
const HARDWARE = /^ras$/;
const SCHEDULING = /^(softirq_tracing|softlockup|hungtask|cpusys|cpuidle|dload)$/;

function tracerColor(c: ChalkInstance, tracer: string): (s: string) => string {
  if (HARDWARE.test(tracer)) return c.red.bold;
  if (MEMORY.test(tracer)) return c.magenta;
  if (NETWORK.test(tracer)) return c.cyan;
  if (SCHEDULING.test(tracer)) return c.yellow;
  return c.blue;
}

/** `2025-06-11 16:05:16.251 +0800` → `2025-06-11 16:05:16.251`: the zone is the host's, the same on every row. */
function shortTime(doc: Document): string {
  return doc.tracer_time.replace(/ [+-]\d{4}$/, "");
}

function containerOf(doc: Document): string {
  if (!doc.container_id) return "-";
  const name = doc.container_hostname || doc.container_id.slice(0, 12);
  return doc.container_host_namespace ? `${doc.container_host_namespace}/${name}` : name;
}

const SUMMARY_WIDTH = 90;

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, width - 1)}…`;
}

/** cli-table3 lays out a table in time quadratic in its rows: render pages of this many with shared widths. */
const PAGE_ROWS = 500;
const NO_RULE = { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" };
const NO_TOP = { top: "", "top-mid": "", "top-left": "", "top-right": "" };
const NO_BOTTOM = { bottom: "", "bottom-mid": "", "bottom-left": "", "bottom-right": "" };

export function renderTable(docs: Document[], c: ChalkInstance): string {
  const head = ["TIME", "TRACER", "TRACER_ID", "CONTAINER", "SUMMARY"].map((h) => c.bold(h));
  const rows = docs.map((doc) => [
    shortTime(doc),
    tracerColor(c, doc.tracer_name)(doc.tracer_name),
    c.dim(doc.tracer_id),
    containerOf(doc),
    clip(summarize(doc.tracer_name, doc.tracer_data), SUMMARY_WIDTH),
  ]);
  // Widths over every row, so the pages line up as one table; +2 for cli-table3's one-space padding each side.
  const colWidths = head.map((h, i) => rows.reduce((w, r) => Math.max(w, Bun.stringWidth(r[i]!)), Bun.stringWidth(h)) + 2);
  const pages: string[][][] = [];
  for (let i = 0; i < rows.length; i += PAGE_ROWS) pages.push(rows.slice(i, i + PAGE_ROWS));
  const text = pages.map((page, i) => {
    // Only the first page has the header and the top border, only the last the bottom border.
    const chars = { ...NO_RULE, ...(i > 0 && NO_TOP), ...(i < pages.length - 1 && NO_BOTTOM) };
    const table = new Table({ head: i === 0 ? head : [], colWidths, style: { head: [], border: [] }, chars });
    table.push(...page);
    return table.toString();
  });
  return text.join("\n").split("\n").filter((line) => line !== "").join("\n");
}

/** One line per event for `events tail`: time, tracer, host, container, key fields. */
export function renderLine(doc: Document, c: ChalkInstance): string {
  const tracer = tracerColor(c, doc.tracer_name)(doc.tracer_name.padEnd(22));
  const where = `${doc.hostname} ${containerOf(doc)}`;
  return `${c.dim(shortTime(doc))} ${tracer} ${where}  ${summarize(doc.tracer_name, doc.tracer_data)}`;
}

export function renderWarning(text: string, c: ChalkInstance): string {
  return c.yellow(`! ${text}`);
}
