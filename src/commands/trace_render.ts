// How `huatuo-bamai trace` shows a capture in a terminal: the hottest stacks as a table and the flame graph as an
// indented tree (cpusys, cpuidle), the blocked tasks (dload), the I/O processes (iotracing), the largest processes
// (memburst). Colour only on a terminal without NO_COLOR, like `events`.
import type { ChalkInstance } from "chalk";
import Table from "cli-table3";
import { byValue, sortedChildren, treeFromFlamedata, type FlameFrame, type FlameNode } from "../profiler/flame";
import type { Profile } from "../profiler/profile";
import type { TracerData } from "../storage/document";
import type { TraceResult } from "./trace_capture";

export interface RenderOptions {
  chalk: ChalkInstance;
  /** Terminal width. */
  columns: number;
  /** Rows of the stack table. */
  top: number;
}

const pct = (n: number, total: number) => (total > 0 ? ((100 * n) / total).toFixed(1) : "0.0");

function clip(text: string, width: number): string {
  return text.length <= width ? text : `${text.slice(0, Math.max(1, width - 1))}…`;
}

/** Rows without rules between them: denser, as `events list` draws its table. */
const NO_RULE = { mid: "", "left-mid": "", "mid-mid": "", "right-mid": "" };

function table(head: string[], rows: string[][], c: ChalkInstance, colWidths?: number[]): string {
  const t = new Table({ head: head.map((h) => c.bold(h)), chars: NO_RULE, style: { head: [], border: [] }, ...(colWidths ? { colWidths } : {}) });
  t.push(...rows);
  return t.toString();
}

/** The hottest distinct stacks, leaf first, each with its process. */
export function renderStacks(profile: Profile, o: RenderOptions): string {
  const rows = profile.stacks.slice(0, o.top).map((s, i) => {
    const frames = s.frames.slice(1).reverse();
    return [String(i + 1), String(s.count), pct(s.count, profile.total), `${s.comm}[${s.pid}]`, frames.join(" ← ") || "-"];
  });
  const fixed = [4, 9, 7, 24];
  const stackWidth = Math.max(30, o.columns - fixed.reduce((a, b) => a + b, 0) - 6);
  const clipped = rows.map((r) => [...r.slice(0, 3), clip(r[3]!, fixed[3]! - 2), clip(r[4]!, stackWidth - 2)]);
  return table(["#", "SAMPLES", "%", "PROCESS", "STACK (leaf ← callers)"], clipped, o.chalk, [...fixed, stackWidth]);
}

/** A chain of single children carrying all their parent's samples reads as one line: `a → … → z (n frames)`. */
function chain(n: FlameNode, keep: (n: FlameNode) => boolean): { labels: string[]; end: FlameNode } {
  const labels = [n.label];
  let end = n;
  for (;;) {
    const kids = sortedChildren(end, byValue).filter(keep);
    if (kids.length !== 1 || end.self > 0 || kids[0]!.value !== end.value) return { labels, end };
    end = kids[0]!;
    labels.push(end.label);
  }
}

function chainLabel(labels: string[]): string {
  if (labels.length <= 2) return labels.join(" → ");
  return `${labels[0]} → … → ${labels.at(-1)} (${labels.length} frames)`;
}

const BAR = 20;

/** The flame graph as a tree, frames under `minPercent` of all samples left out. */
export function renderFlame(flamedata: readonly FlameFrame[], o: RenderOptions & { minPercent?: number; maxLines?: number }): string {
  const root = treeFromFlamedata(flamedata);
  const total = root.value;
  if (total === 0) return "(no samples)";
  const keep = (n: FlameNode) => (100 * n.value) / total >= (o.minPercent ?? 1);
  const lines: string[] = [];
  const max = o.maxLines ?? 60;
  let hidden = 0;
  const visit = (n: FlameNode, prefix: string, last: boolean, top: boolean) => {
    const { labels, end } = chain(n, keep);
    if (lines.length >= max) return void hidden++;
    const share = n.value / total;
    const bar = "█".repeat(Math.round(share * BAR)).padEnd(BAR);
    const color = share >= 0.5 ? o.chalk.red : share >= 0.2 ? o.chalk.yellow : o.chalk.green;
    const branch = top ? "" : last ? "└─ " : "├─ ";
    const tree = `${prefix}${branch}`;
    const room = Math.max(20, o.columns - BAR - 8 - tree.length);
    lines.push(`${pct(n.value, total).padStart(5)}% ${color(bar)} ${tree}${clip(chainLabel(labels), room)}`);
    const kids = sortedChildren(end, byValue).filter(keep);
    kids.forEach((k, i) => visit(k, top ? "" : prefix + (last ? "   " : "│  "), i === kids.length - 1, false));
  };
  visit(root, "", true, true);
  if (hidden) lines.push(o.chalk.dim(`… ${hidden} more frames (use --output json for the whole flame graph)`));
  return lines.join("\n");
}

function renderProfile(result: TraceResult, o: RenderOptions): string {
  const p = result.profile!;
  const info = `${p.total} samples at ${p.frequency} Hz in ${(p.durationMs / 1000).toFixed(1)} s (${p.hook})`;
  const losses = p.stackMissing || p.dropped ? o.chalk.yellow(`; ${p.stackMissing} stacks not recorded, ${p.dropped} samples dropped`) : "";
  return [
    o.chalk.dim(info) + losses,
    "",
    o.chalk.bold("Hottest stacks"),
    renderStacks(p, o),
    "",
    o.chalk.bold(`Flame graph (frames with at least 1% of the samples)`),
    renderFlame(p.flamedata, o),
  ].join("\n");
}

const mib = (bytes: number) => `${(bytes / (1 << 20)).toFixed(1)} MiB`;

function renderDload(d: TracerData, o: RenderOptions): string {
  const counts = ["nr_running", "nr_sleeping", "nr_uninterruptible", "nr_stopped", "nr_iowait", "load_avg", "dload_avg", "known_issue"];
  const t = table(counts.map((k) => k.toUpperCase()), [counts.map((k) => String(d[k] ?? "") || "-")], o.chalk);
  return `${t}\n\n${String(d.stack)}`;
}

function renderIo(d: TracerData, o: RenderOptions): string {
  const procs = (d.process_io_data as Array<Record<string, unknown>>).map((p) => [
    String(p.pid), String(p.comm), String(p.container_hostname || "-"),
    mib(p.disk_read as number), mib(p.disk_write as number), mib(p.fs_read as number), mib(p.fs_write as number),
    clip((p.file_stat as string[]).join(" "), Math.max(20, o.columns - 100)) || "-",
  ]);
  const stacks = (d.timeout_io_stack as Array<Record<string, unknown>>).map((s) => [
    String(s.pid), String(s.comm), `${Math.round((s.latency_us as number) / 1000)} ms`,
    clip(((s.stack as { back_trace: string[] }).back_trace.map((f) => f.replace(/\+.*$/, ""))).join(" ← "), Math.max(30, o.columns - 40)),
  ]);
  return [
    o.chalk.bold("Processes by I/O"),
    procs.length ? table(["PID", "COMM", "CONTAINER", "DISK READ", "DISK WRITE", "FS READ", "FS WRITE", "FILES"], procs, o.chalk) : "(no block I/O)",
    "",
    o.chalk.bold("Tasks blocked in D state"),
    stacks.length ? table(["PID", "COMM", "LONGEST", "STACK (innermost first)"], stacks, o.chalk) : "(none over the threshold)",
  ].join("\n");
}

function renderMem(d: TracerData, o: RenderOptions): string {
  const rows = (d.top_memory_usage as Array<{ pid: number; process_name: string; memory_size: number }>).map((p) => [String(p.pid), p.process_name, mib(p.memory_size)]);
  return table(["PID", "PROCESS", "RSS"], rows, o.chalk);
}

export function renderResult(name: string, result: TraceResult, o: RenderOptions): string {
  const c = result.container;
  const who = c ? ` ${c.namespace}/${c.hostname} (${c.id.slice(0, 12)})` : "";
  const head = `${o.chalk.bold.yellow(name)}${who}: ${result.headline}`;
  const body =
    result.profile ? renderProfile(result, o)
    : name === "dload" ? renderDload(result.data, o)
    : name === "iotracing" ? renderIo(result.data, o)
    : renderMem(result.data, o);
  return `${head}\n${body}\n`;
}
