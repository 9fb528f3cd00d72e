// The soak's account: what each agent run saved, stored, sent and delivered, reconciled against what the kernel,
// the fake Elasticsearch, the files on disk and every watch subscriber saw; a summary table and the CSV time series.
import { writeFileSync } from "node:fs";
import { value, type Series } from "./soak_agent";
import { mergeHistograms, percentile, type ProcessReport, type RunView } from "./soak_watch_clients";

/** One agent process: its counters at the last scrape before SIGTERM (nothing generated meanwhile) and its stop. */
export interface RunRecord {
  execWallMs: number;
  readyMs: number;
  dropwatchMs: number;
  clientsBackMs?: number;
  final?: Series;
  /** Events saved by all tracers and by dropwatch (/tracers), at the final scrape. */
  saved: number;
  dropwatchEvents: number;
  stop?: { code: number; ms: number; esDroppedAtStop: number };
}

export interface Sample {
  t: number;
  run: number;
  rssMiB: number;
  anonMiB: number;
  cpuPct: number;
  load1: number;
  faults: string;
  series: Series;
  sent: number;
  esAcked: number;
  linesOnDisk: number;
}

const STORAGE = "huatuo_bamai_storage_documents_total";
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const fmt = (n: number) => Math.round(n).toLocaleString("en");

function finalValue(runs: RunRecord[], name: string, labels = ""): number {
  return sum(runs.map((r) => (r.final ? value(r.final, name, labels) : 0)));
}

const storage = (runs: RunRecord[], backend: string, result: string) =>
  finalValue(runs, STORAGE, `backend="${backend}",result="${result}"`);

export interface Totals {
  sent: number;
  /** Datagrams the generator could not send (each is retried a few times first). */
  failed: number;
  esAcked: number;
  esDuplicates: number;
  linesOnDisk: number;
}

/** Kernel → dropwatch: every drop it saw is an event, rate-limited, lost or excluded (all counted). */
function kernelLines(runs: RunRecord[], t: Totals): string[] {
  const dw = (what: string) => finalValue(runs, `huatuo_bamai_dropwatch_${what}_total`);
  const events = sum(runs.map((r) => r.dropwatchEvents));
  const produced = events + dw("ratelimited") + dw("lost") + dw("excluded");
  return [
    `kernel drops seen by dropwatch  ${fmt(produced)} = reported ${fmt(events)} + rate-limited ${fmt(dw("ratelimited"))} + lost ${fmt(dw("lost"))} + excluded ${fmt(dw("excluded"))}`,
    `  datagrams sent to closed ports ${fmt(t.sent)} (${fmt(t.failed)} failed to send); the rest, ${fmt(produced - t.sent)}, are other drops on this shared host`,
  ];
}

function storageLines(runs: RunRecord[], t: Totals): string[] {
  const saved = sum(runs.map((r) => r.saved));
  const published = finalValue(runs, "huatuo_bamai_events_watch_published_total");
  const local = (r: string) => storage(runs, "local_file", r);
  const es = (r: string) => storage(runs, "elasticsearch", r);
  const esBacklog = finalValue(runs, "huatuo_bamai_storage_backlog_documents", 'backend="elasticsearch"');
  const esAtStop = sum(runs.map((r) => r.stop?.esDroppedAtStop ?? 0));
  const esAfter = t.esAcked - es("stored");
  return [
    `documents saved (all tracers)   ${fmt(saved)}; published to the watch hub ${fmt(published)}`,
    `local files                     stored ${fmt(local("stored"))} + dropped ${fmt(local("dropped"))} (disk full) + backlog ${fmt(finalValue(runs, "huatuo_bamai_storage_backlog_documents", 'backend="local_file"'))} = ${fmt(local("stored") + local("dropped"))}; lines on disk ${fmt(t.linesOnDisk)} (${fmt(t.linesOnDisk - local("stored"))} written after the last scrape of a run)`,
    `elasticsearch                   stored ${fmt(es("stored"))} + dropped ${fmt(es("dropped"))} (backlog full) + rejected ${fmt(es("rejected"))} + backlog ${fmt(esBacklog)} = ${fmt(es("stored") + es("dropped") + es("rejected") + esBacklog)}; retried ${fmt(es("retried"))}`,
    `  backlog at stop               ${fmt(esBacklog)} → acknowledged by the fake after the last scrape ${fmt(esAfter)} + dropped at shutdown (logged) ${fmt(esAtStop)}`,
    `  fake _bulk acknowledged       ${fmt(t.esAcked)} distinct ids (${fmt(t.esDuplicates)} sent twice)`,
    `  unaccounted                   local ${fmt(saved - local("stored") - local("dropped"))}, elasticsearch ${fmt(saved - t.esAcked - es("dropped") - es("rejected") - esAtStop)}`,
  ];
}

interface ClientAccount {
  received: number;
  dropped: number;
  gapLost: number;
  unexplained: number;
  duplicates: number;
  /** Events of a run after the last one this client got (the agent counts them as `disconnected`). */
  tail: number;
  /** Events of a run before the first one the agent offered this client on (re)connecting. */
  lateStart: number;
  connects: number;
  refused: number;
}

/** The agent run a client's view belongs to: the last one exec'ed before the view's first id (µs since the epoch). */
function runOf(view: RunView, runs: RunRecord[]): number {
  const idMs = (view.first ?? view.next) / 1000;
  let index = 0;
  runs.forEach((r, i) => (r.execWallMs <= idMs ? (index = i) : undefined));
  return index;
}

function clientAccounts(reports: ProcessReport[], runs: RunRecord[]): ClientAccount[] {
  const clients = reports.flatMap((r) => r.clients);
  const views = clients.flatMap((c) => c.runs.filter((v) => v.first !== undefined).map((v) => ({ v, run: runOf(v, runs) })));
  const end = runs.map((_, i) => Math.max(...views.filter((x) => x.run === i).map((x) => x.v.last!)));
  const start = runs.map((_, i) => Math.min(...views.filter((x) => x.run === i).map((x) => x.v.next)));
  return clients.map((c) => {
    const acc: ClientAccount = { received: 0, dropped: 0, gapLost: 0, unexplained: 0, duplicates: 0, tail: 0, lateStart: 0, connects: c.connects, refused: c.refused };
    for (const v of c.runs.filter((x) => x.first !== undefined)) {
      const run = runOf(v, runs);
      acc.received += v.received;
      acc.dropped += v.dropped;
      acc.gapLost += v.gapLost;
      acc.unexplained += v.unexplained;
      acc.duplicates += v.duplicates;
      acc.tail += end[run]! - v.last!;
      acc.lateStart += v.next - start[run]!;
    }
    return acc;
  });
}

function range(xs: number[]): string {
  return xs.length ? `${fmt(Math.min(...xs))} .. ${fmt(Math.max(...xs))}` : "-";
}

function watchLines(runs: RunRecord[], reports: ProcessReport[]): string[] {
  const acc = clientAccounts(reports, runs);
  const drop = (reason: string) => finalValue(runs, "huatuo_bamai_events_watch_dropped_total", `reason="${reason}"`);
  const hist = mergeHistograms(reports.map((r) => r.latency));
  const col = (k: keyof ClientAccount) => acc.map((a) => a[k]);
  const missing = reports.filter((r) => r.missing).map((r) => r.missing);
  return [
    ...(missing.length ? [`watch: ${missing.length} subscriber processes printed no report (${missing.join("; ")}); their subscribers are left out`] : []),
    `watch, ${acc.length} subscribers   received per subscriber ${range(col("received"))} (sum ${fmt(sum(col("received")))}; agent delivered ${fmt(finalValue(runs, "huatuo_bamai_events_watch_delivered_total"))})`,
    `  told "dropped" (slow client)  ${range(col("dropped"))} per subscriber, sum ${fmt(sum(col("dropped")))}; agent slow_client ${fmt(drop("slow_client"))}`,
    `  told "gap" (backlog exceeded) sum ${fmt(sum(col("gapLost")))}; agent gap ${fmt(drop("gap"))}, disconnected ${fmt(drop("disconnected"))}`,
    `  missing at a run's end        sum ${fmt(sum(col("tail")))}; missing at a (re)connect ${fmt(sum(col("lateStart")))}`,
    `  unexplained ids / duplicates  ${fmt(sum(col("unexplained")))} / ${fmt(sum(col("duplicates")))}; connects per subscriber ${range(col("connects"))} (refused ${fmt(sum(col("refused")))})`,
    `  delivery latency              p50 ${percentile(hist, 0.5)} ms, p99 ${percentile(hist, 0.99)} ms, p99.9 ${percentile(hist, 0.999)} ms (document built → received; ${fmt(sum(reports.map((r) => r.held)))} events held by a SIGSTOP not included)`,
  ];
}

function resourceLines(samples: Sample[], runs: RunRecord[]): string[] {
  const rss = samples.map((s) => s.rssMiB);
  const anon = samples.map((s) => s.anonMiB);
  const cpu = samples.map((s) => s.cpuPct);
  const perRun = runs.map((_, i) => samples.filter((s) => s.run === i));
  const trend = perRun.map((xs, i) => {
    if (xs.length === 0) return `run ${i + 1}: -`;
    const [a, z] = [xs[0]!, xs.at(-1)!];
    const minutes = ((z.t - a.t) / 60).toFixed(1);
    return `run ${i + 1}: ${a.rssMiB.toFixed(0)} → ${z.rssMiB.toFixed(0)} MiB (anon ${a.anonMiB.toFixed(0)} → ${z.anonMiB.toFixed(0)}) over ${minutes} min`;
  });
  return [
    `RSS (every 30 s)                min ${Math.min(...rss).toFixed(1)} / median ${median(rss).toFixed(1)} / max ${Math.max(...rss).toFixed(1)} MiB (goal flat, <= 100 MiB); anonymous ${Math.min(...anon).toFixed(1)} / ${median(anon).toFixed(1)} / ${Math.max(...anon).toFixed(1)} MiB`,
    `  per run                       ${trend.join("; ")}`,
    `CPU                             mean ${(sum(cpu) / cpu.length).toFixed(1)}% of one core, max ${Math.max(...cpu).toFixed(1)}% (30 s windows); load1 ${range(samples.map((s) => s.load1))}`,
  ];
}

function restartLines(runs: RunRecord[]): string[] {
  return runs.map((r, i) => {
    const stop = r.stop ? `SIGTERM → exit ${r.stop.code} in ${fmt(r.stop.ms)} ms` : "still running";
    const back = r.clientsBackMs === undefined ? "" : `, all subscribers streaming again ${fmt(r.clientsBackMs)} ms`;
    return `run ${i + 1}: exec → /metrics 200 in ${fmt(r.readyMs)} ms, dropwatch running ${fmt(r.dropwatchMs)} ms${back}; ${stop}`;
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

export function summary(runs: RunRecord[], samples: Sample[], reports: ProcessReport[], totals: Totals): string {
  return [
    ...kernelLines(runs, totals),
    ...storageLines(runs, totals),
    ...watchLines(runs, reports),
    ...resourceLines(samples, runs),
    ...restartLines(runs),
  ].join("\n");
}

const CSV_COLUMNS: Array<[string, (s: Sample) => number | string]> = [
  ["t_s", (s) => s.t.toFixed(0)],
  ["run", (s) => s.run + 1],
  ["rss_mib", (s) => s.rssMiB.toFixed(1)],
  ["rss_anon_mib", (s) => s.anonMiB.toFixed(1)],
  ["cpu_pct", (s) => s.cpuPct.toFixed(2)],
  ["heap_mib", (s) => (value(s.series, "huatuo_bamai_process_heap_bytes") / 2 ** 20).toFixed(1)],
  ["fds", (s) => value(s.series, "huatuo_bamai_process_open_fds")],
  ["load1", (s) => s.load1],
  ["sent", (s) => s.sent],
  ["dropwatch_ratelimited", (s) => value(s.series, "huatuo_bamai_dropwatch_ratelimited_total")],
  ["published", (s) => value(s.series, "huatuo_bamai_events_watch_published_total")],
  ["local_stored", (s) => value(s.series, STORAGE, 'backend="local_file",result="stored"')],
  ["local_dropped", (s) => value(s.series, STORAGE, 'backend="local_file",result="dropped"')],
  ["lines_on_disk", (s) => s.linesOnDisk],
  ["es_stored", (s) => value(s.series, STORAGE, 'backend="elasticsearch",result="stored"')],
  ["es_dropped", (s) => value(s.series, STORAGE, 'backend="elasticsearch",result="dropped"')],
  ["es_backlog", (s) => value(s.series, "huatuo_bamai_storage_backlog_documents", 'backend="elasticsearch"')],
  ["es_acked", (s) => s.esAcked],
  ["watch_clients", (s) => value(s.series, "huatuo_bamai_events_watch_clients")],
  ["watch_delivered", (s) => value(s.series, "huatuo_bamai_events_watch_delivered_total")],
  ["watch_dropped_slow", (s) => value(s.series, "huatuo_bamai_events_watch_dropped_total", 'reason="slow_client"')],
  ["watch_dropped_disconnected", (s) => value(s.series, "huatuo_bamai_events_watch_dropped_total", 'reason="disconnected"')],
  ["faults", (s) => s.faults],
];

/** Counters in the CSV are per agent run (they restart at 0 with the agent); sent, es_acked and lines are cumulative. */
export function writeCsv(path: string, samples: Sample[]): void {
  const rows = samples.map((s) => CSV_COLUMNS.map(([, f]) => f(s)).join(","));
  writeFileSync(path, [CSV_COLUMNS.map(([h]) => h).join(","), ...rows].join("\n") + "\n");
}
