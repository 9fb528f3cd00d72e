// Benchmark: CPU of an idle daemon (the built binary, shipped defaults: every eBPF metric on) over 60 s, the time
// the kernel spent in our metric programs meanwhile (kernel.bpf_stats_enabled=1), and the same CPU per tracer group
// (each group alone, every other tracer blacklisted) to show where an idle daemon's CPU goes. Prints figures only.
// Env: WINDOW_S (default 60), BINARY (default dist/huatuo-bamai), GROUPS=0 skips the per-group breakdown, TRIES
// (default 3): a window in which other processes on the host made events (packet drops, ...) is taken again.
import { spawn } from "bun";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { iolatencyBpf } from "../../src/metrics/iolatency";
import { memoryFreeBpf } from "../../src/metrics/memory_free";
import { memoryReclaimBpf } from "../../src/metrics/memory_reclaim";
import { runqlatSpec } from "../../src/metrics/runqlat";
import { softirqBpf } from "../../src/metrics/softirq";

const REPO = resolve(import.meta.dir, "../..");
const BINARY = process.env.BINARY ?? join(REPO, "dist/huatuo-bamai");
const WINDOW_S = Number(process.env.WINDOW_S ?? 60);
const SCRAPE_EVERY_S = 15;
const TRIES = Number(process.env.TRIES ?? 3);
/** A quiet host still drops the odd packet: up to one event per 10 s leaves a window idle. */
const QUIET_EVENTS_PER_S = 0.1;
const STATS = "/proc/sys/kernel/bpf_stats_enabled";
const TICKS_PER_S = 100; // USER_HZ
const BPF_OBJ_NAME_LEN = 15; // the kernel keeps 15 characters of a program's name
/** Tracers the shipped defaults leave out (no such hardware here). */
const NOT_SHIPPED = ["netdev_hw", "metax_gpu"];

/** The programs our metric tracers attach here (BTF tracepoints), as bpftool shows their names. */
const OUR_PROGRAMS = new Set(
  [softirqBpf, memoryFreeBpf, memoryReclaimBpf, iolatencyBpf, runqlatSpec(true)]
    .flatMap((spec) => spec.hooks.flatMap((h) => h.candidates.filter((c) => c.kind === "tp_btf")))
    .map((c) => c.program.slice(0, BPF_OBJ_NAME_LEN)),
);

/** utime + stime in seconds: of the whole process, or of each thread by name (Bun's helpers show up apart). */
function cpuSeconds(path: string): number {
  const fields = readFileSync(`${path}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

function threadSeconds(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = tid === String(pid) ? "main" : readFileSync(`/proc/${pid}/task/${tid}/comm`, "utf8").trim();
      out.set(name, (out.get(name) ?? 0) + cpuSeconds(`/proc/${pid}/task/${tid}`));
    } catch {
      // the thread exited meanwhile
    }
  }
  return out;
}

function bpftoolPrograms(): Array<{ id: number; name?: string; run_time_ns?: number }> {
  return JSON.parse(Bun.spawnSync(["bpftool", "prog", "show", "-j"], { stdout: "pipe" }).stdout.toString() || "[]");
}

/** Kernel time in our programs, by program id (ids loaded before the daemon are excluded). */
function bpfRunTimeNs(exclude: Set<number>): number {
  return bpftoolPrograms()
    .filter((p) => !exclude.has(p.id) && OUR_PROGRAMS.has(p.name ?? ""))
    .reduce((sum, p) => sum + (p.run_time_ns ?? 0), 0);
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(50);
  }
  throw new Error("daemon not ready");
}

interface Window {
  cpu: number;
  bpfMs: number;
  /** % of one core per thread name, the busiest first */
  threads: Array<[string, number]>;
  /** Events the tracers stored meanwhile (other work on the host makes packet drops, log lines, ...). */
  events: Array<[string, number]>;
}

async function eventCounts(base: string): Promise<Map<string, number>> {
  const { data } = (await (await fetch(`${base}/tracers`)).json()) as { data: TracerInfo[] };
  return new Map(data.map((t) => [t.name, t.events]));
}

/** CPU % of one core and kernel BPF ms/s over one window, scraping every `scrapeEvery` seconds (0: never). */
async function window(d: Daemon, known: Set<number>, scrapeEvery: number): Promise<Window> {
  const events0 = await eventCounts(d.base);
  const [cpu0, threads0, bpf0, t0] = [cpuSeconds(`/proc/${d.pid}`), threadSeconds(d.pid), bpfRunTimeNs(known), performance.now()];
  for (let s = 0; s < WINDOW_S; s += scrapeEvery || WINDOW_S) {
    if (scrapeEvery) await fetch(`${d.base}/metrics`).then((r) => r.text());
    await Bun.sleep((scrapeEvery || WINDOW_S) * 1000);
  }
  const seconds = (performance.now() - t0) / 1000;
  const percent = (cpu: number) => (cpu / seconds) * 100;
  const threads = [...threadSeconds(d.pid)].map(([name, s]): [string, number] => [name, percent(s - (threads0.get(name) ?? 0))]);
  const cpu = percent(cpuSeconds(`/proc/${d.pid}`) - cpu0);
  const bpfMs = (bpfRunTimeNs(known) - bpf0) / 1e6 / seconds;
  const events = [...(await eventCounts(d.base))].map(([name, n]): [string, number] => [name, n - (events0.get(name) ?? 0)]);
  return { cpu, bpfMs, threads: threads.filter(([, p]) => p > 0).sort((a, b) => b[1] - a[1]), events: events.filter(([, n]) => n > 0) };
}

const METRIC_TRACERS = ["runqlat", "softirq", "memory_free", "memory_reclaim", "iolatency"];

interface TracerInfo {
  name: string;
  kind: string;
  status: string;
  hook: string;
  events: number;
}

interface Daemon {
  pid: number;
  /** http://127.0.0.1:<port> */
  base: string;
  tracers: TracerInfo[];
  stop(): Promise<void>;
}

async function startDaemon(blackList: string[]): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), "bench-idle-"));
  const port = 19600 + Math.floor(Math.random() * 100);
  const conf = `BlackList = ${JSON.stringify(blackList)}\n[HTTPServer]\nListenAddress = "127.0.0.1:${port}"\n[Log]\nLevel = "Warn"\n`;
  writeFileSync(join(dir, "c.conf"), conf);
  const args = ["run", "--region", "bench", "--config", join(dir, "c.conf"), "--pid-file", join(dir, "pid"), "--disable-kubelet"];
  const proc = spawn([BINARY, ...args], { cwd: dir, stdout: "ignore", stderr: "ignore" });
  const base = `http://127.0.0.1:${port}`;
  await waitReady(`${base}/metrics`);
  const { data } = (await (await fetch(`${base}/tracers`)).json()) as { data: TracerInfo[] };
  const stop = async () => {
    proc.kill();
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  };
  return { pid: proc.pid, base, tracers: data, stop };
}

const running = (d: Daemon) => d.tracers.filter((t) => t.status === "running").map((t) => t.name);
const fmt = (w: Window) =>
  `daemon ${w.cpu.toFixed(2)}% of one core (${w.threads.map(([n, p]) => `${n} ${p.toFixed(2)}`).join(", ")}); ` +
  `metric programs in kernel ${w.bpfMs.toFixed(2)} ms/s; ` +
  `events stored: ${w.events.map(([n, c]) => `${n} ${c}`).join(", ") || "none"}`;

/** A window in which (almost) no event came, or the last of TRIES: an idle figure, not the cost of others' drops. */
async function quietWindow(label: string, d: Daemon, known: Set<number>, scrapeEvery: number): Promise<void> {
  for (let attempt = 1; attempt <= TRIES; attempt++) {
    const w = await window(d, known, scrapeEvery);
    console.log(`  ${label} ${fmt(w)}`);
    if (w.events.reduce((sum, [, n]) => sum + n, 0) <= QUIET_EVENTS_PER_S * WINDOW_S) return;
  }
}

async function measure(title: string, blackList: string[], scraped: boolean): Promise<TracerInfo[]> {
  const known = new Set(bpftoolPrograms().map((p) => p.id));
  const d = await startDaemon(blackList);
  try {
    console.log(`\n${title}: running ${running(d).join(", ") || "nothing"}`);
    await Bun.sleep(5000);
    await quietWindow("no scrapes:         ", d, known, 0);
    if (scraped) await quietWindow(`scraped every ${SCRAPE_EVERY_S} s:`, d, known, SCRAPE_EVERY_S);
    return d.tracers;
  } finally {
    await d.stop();
  }
}

const BPF_HOOK = /^(tp_btf|raw_tp|tracepoint|kprobe|kretprobe|fentry|fexit):/;

/** Tracer groups of the shipped defaults, each measured alone; the first is the daemon with every tracer off. */
function groups(all: TracerInfo[]): Array<[string, string[]]> {
  const events = all.filter((t) => t.kind === "event" && t.status === "running");
  const otherEvents = events.filter((t) => !BPF_HOOK.test(t.hook));
  return [
    ["no tracer at all (HTTP server, storage, runtime)", []],
    ["BPF event tracers", events.filter((t) => BPF_HOOK.test(t.hook)).map((t) => t.name)],
    ...otherEvents.map((t): [string, string[]] => [`${t.name} (${t.hook})`, [t.name]]),
    ["autotracing detectors", all.filter((t) => t.kind === "autotracing" && t.status === "running").map((t) => t.name)],
    ["procfs/sysfs/netlink metrics", all.filter((t) => t.kind === "metric" && t.status === "running" && !METRIC_TRACERS.includes(t.name)).map((t) => t.name)],
  ];
}

const previous = readFileSync(STATS, "utf8").trim();
writeFileSync(STATS, "1");
try {
  console.log(`idle daemon CPU over ${WINDOW_S} s windows after a 5 s warm-up (goal <= 0.5% of one core)`);
  const all = await measure("shipped defaults (every tracer)", NOT_SHIPPED, true);
  const names = all.map((t) => t.name);
  await measure("the eBPF metrics alone", names.filter((name) => !METRIC_TRACERS.includes(name)), true);
  if (process.env.GROUPS !== "0") {
    for (const [title, keep] of groups(all)) await measure(title, names.filter((name) => !keep.includes(name)), false);
  }
} finally {
  writeFileSync(STATS, previous);
}
