// Soak with faults (issue 7): the built agent for `--minutes N` (default 30) with every default tracer, scraped every
// 5 s, 50 watch subscribers, real packet drops, and a repeating cycle of faults; prints the account, writes a CSV.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { KubeNode, podJson, V1_ROOTS } from "../../tests/support/cgroups";
import { Agent, DiskLines, value, type Series } from "./soak_agent";
import { DropGenerator, FakeEs, FakeKubelet, SmallTmpfs, type EsMode, type KubeletMode } from "./soak_faults";
import { summary, writeCsv, type RunRecord, type Sample } from "./soak_report";
import { spawnWatchClients, type WatchClients } from "./soak_watch_clients";

const REPO = resolve(import.meta.dir, "../..");
const { values: args } = parseArgs({
  options: {
    minutes: { type: "string", default: "30" },
    subscribers: { type: "string", default: "50" },
    rate: { type: "string", default: "40" },
  },
});
const MINUTES = Number(args.minutes);
const SUBSCRIBERS = Number(args.subscribers);
const RATE = Number(args.rate);
const PER_PROCESS = 10;
const BURST_RATE = 400;
const SCRAPE_S = 5;
const SAMPLE_S = 30;

/** When (seconds, or a fraction of a cycle), what, and the action. */
type Action = [number, string, () => unknown];

/** Every fault of one cycle, at fractions of its length (5 min; the whole run when shorter). */
function cycleActions(c: number, cycle: number, procs: number): Action[] {
  const short = cycle % procs;
  const long = (cycle + 1) % procs;
  return [
    [0.05, "kubelet garbage", () => kubelet("garbage")],
    [0.08, `SIGSTOP subscribers ${long} (long)`, () => signal(long, "SIGSTOP")],
    [0.15, "kubelet up", () => kubelet("up")],
    [0.2, "drop burst", () => burst()],
    [0.25, "kubelet down", () => kubelet("down")],
    [0.3, "es down", () => es("down")],
    [0.35, "disk full", () => diskFull(true)],
    [0.4, "kubelet up", () => kubelet("up")],
    // Long enough to fill the socket buffers, then miss three keepalives (10 s apart): the agent closes the
    // stream, and the subscriber resumes with Last-Event-ID.
    [0.08 + Math.max(0.3, 100 / c), `SIGCONT subscribers ${long}`, () => signal(long, "SIGCONT")],
    [0.45, "es up", () => es("up")],
    [0.5, "disk freed", () => diskFull(false)],
    [0.55, "kubelet 500", () => kubelet("500")],
    [0.6, "es 429", () => es("429")],
    [0.62, `SIGSTOP subscribers ${short}`, () => signal(short, "SIGSTOP")],
    [0.65, "kubelet up", () => kubelet("up")],
    [0.68, `SIGCONT subscribers ${short}`, () => signal(short, "SIGCONT")],
    [0.75, "es up", () => es("up")],
  ];
}

/** Restarts in the last cycle and about two thirds in, so the first agent runs long enough to show a memory trend. */
function schedule(totalS: number): Action[] {
  const c = Math.min(300, totalS);
  const cycles = Math.floor(totalS / c);
  const restarts = new Set([cycles - 1, Math.round((cycles * 2) / 3) - 1]);
  const out: Action[] = [];
  for (let i = 0; i < cycles; i++) {
    for (const [f, label, act] of cycleActions(c, i, Math.ceil(SUBSCRIBERS / PER_PROCESS))) out.push([i * c + f * c, label, act]);
    if (restarts.has(i)) out.push([i * c + 0.95 * c, "SIGTERM and restart", restart]);
  }
  return out.sort((a, b) => a[0] - b[0]);
}

const work = mkdtempSync(join(tmpdir(), "huatuo-soak-"));
const stamp = new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19);
const buildDir = join(REPO, "build");
const faults = new Set<string>();
const runs: RunRecord[] = [];
const samples: Sample[] = [];
const fakeEs = new FakeEs();
const node = new KubeNode(V1_ROOTS);
let fakeKubelet: FakeKubelet;
let tmpfs: SmallTmpfs;
let agent: Agent;
let clients: WatchClients[] = [];
const gen = new DropGenerator();
let restarting = false;
let t0 = 0;
/** CPU seconds of the agent at the previous sample (or its start), for the CPU % of the next window. */
let cpuMark = { run: -1, seconds: 0, at: 0 };

function toggle(name: string, on: boolean): void {
  if (on) faults.add(name);
  else faults.delete(name);
}

function es(mode: EsMode): void {
  fakeEs.set(mode);
  toggle("es:down", mode === "down");
  toggle("es:429", mode === "429");
}

function kubelet(mode: KubeletMode): void {
  fakeKubelet.set(mode);
  for (const m of ["down", "garbage", "500"]) toggle(`kubelet:${m}`, mode === m);
}

function signal(index: number, sig: "SIGSTOP" | "SIGCONT"): void {
  clients[index]!.proc.kill(sig);
  toggle(`sigstop:${index}`, sig === "SIGSTOP");
}

function diskFull(on: boolean): void {
  if (on) console.error(`  filled the storage tmpfs: ${(tmpfs.fill() / 2 ** 20).toFixed(1)} MiB were free`);
  else tmpfs.free();
  toggle("disk_full", on);
}

/** Ten seconds over dropwatch's in-kernel limit (100/s): the excess is counted as rate-limited. */
function burst(): void {
  gen.rate(BURST_RATE);
  toggle("burst", true);
  setTimeout(() => {
    if (!faults.has("burst")) return;
    toggle("burst", false);
    if (!restarting) gen.rate(RATE);
  }, 10_000);
}

function config(port: number): string {
  return [
    `[HTTPServer]\nListenAddress = "127.0.0.1:${port}"`,
    `[Storage.LocalFile]\nPath = "${tmpfs.dir}"\nRotationSize = 1\nMaxRotation = 4`,
    `[Storage.ES]\nAddress = "${fakeEs.url}"\nUsername = "soak"\nPassword = "soak"\nBulkSize = 1\nFlushInterval = 1\nBacklogSize = 1`,
    `[Pod]\nKubeletReadOnlyPort = ${fakeKubelet.port}\nKubeletAuthorizedPort = 0`,
    // Three missed pings close a stalled stream: at 10 s the long SIGSTOP exercises it, and the resume after it.
    `[EventsWatch]\nKeepAliveInterval = 10`,
  ].join("\n\n") + "\n";
}

async function setup(): Promise<void> {
  tmpfs = new SmallTmpfs(join(work, "store"), 16);
  fakeEs.set("up");
  const uid = crypto.randomUUID();
  const app = node.addContainer({ naming: "cgroupfs", qos: "Burstable", podUid: uid, name: "app" });
  fakeKubelet = new FakeKubelet([podJson({ uid, name: "soak-0", namespace: "soak", qos: "Burstable", containers: [app] })]);
  fakeKubelet.set("up");
  await gen.init();
  const binary = join(work, "huatuo-bamai");
  // A private copy: another engineer's `npm run build` during the soak must not change the agent between restarts.
  copyFileSync(join(REPO, "dist/huatuo-bamai"), binary);
  console.error(`agent: ${Bun.spawnSync([binary, "--version", "--version-format", "json"]).stdout.toString().trim()}`);
  const port = freeTcpPort();
  const configPath = join(work, "huatuo-bamai.conf");
  writeFileSync(configPath, config(port));
  agent = new Agent({ binary, config: configPath, pidFile: join(work, "huatuo-bamai.pid"), log: join(work, "agent.log"), port });
}

/** A loopback port that was just free: the agent keeps it across restarts, so subscribers reconnect to it. */
function freeTcpPort(): number {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = server.port!;
  server.stop(true);
  return port;
}

async function until<T>(check: () => Promise<T | undefined>, ms: number): Promise<T | undefined> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    const v = await check().catch(() => undefined);
    if (v !== undefined) return v;
    await Bun.sleep(50);
  }
  return undefined;
}

/** SUBSCRIBERS streams in processes of PER_PROCESS: a SIGSTOP halts one process, so that many subscribers at once. */
function spawnSubscribers(): WatchClients[] {
  const url = agent.url("/v1/events/watch");
  const procs = Math.ceil(SUBSCRIBERS / PER_PROCESS);
  return Array.from({ length: procs }, (_, i) => spawnWatchClients(url, Math.min(PER_PROCESS, SUBSCRIBERS - i * PER_PROCESS)));
}

/** Exec, readiness, dropwatch attached, drops resumed, every subscriber (not stopped) streaming again. */
async function startRun(): Promise<void> {
  const run: RunRecord = { execWallMs: Date.now(), readyMs: 0, dropwatchMs: 0, saved: 0, dropwatchEvents: 0 };
  runs.push(run);
  run.readyMs = await agent.start();
  cpuMark = { run: runs.length - 1, seconds: agent.cpuSeconds(), at: performance.now() };
  const since = () => performance.now() - agent.execAt;
  const dw = async () => ((await agent.tracers()).find((t) => t.name === "dropwatch")?.status === "running" ? since() : undefined);
  run.dropwatchMs = (await until(dw, 30_000)) ?? NaN;
  gen.rate(RATE);
  if (clients.length === 0) clients = spawnSubscribers();
  const stopped = clients.filter((_, i) => faults.has(`sigstop:${i}`)).reduce((n, c) => n + c.count, 0);
  const back = async () => (value(await agent.scrape(), "huatuo_bamai_events_watch_clients") >= SUBSCRIBERS - stopped ? since() : undefined);
  run.clientsBackMs = await until(back, 30_000);
}

/** Quiesce the drops, let storage drain, read the counters, then SIGTERM (the next drop goes to the next run). */
async function endRun(): Promise<void> {
  const run = runs.at(-1)!;
  gen.rate(0);
  await Bun.sleep(1500);
  await until(async () => (value(await agent.scrape(), "huatuo_bamai_storage_backlog_documents", 'backend="local_file"') === 0 ? true : undefined), 10_000);
  const [series, tracers] = await Promise.all([agent.scrape(), agent.tracers()]);
  run.final = series;
  run.saved = tracers.reduce((n, t) => n + t.events, 0);
  run.dropwatchEvents = tracers.find((t) => t.name === "dropwatch")?.events ?? 0;
  const logPath = join(work, "agent.log");
  const offset = statSync(logPath).size;
  const stopped = await agent.stop();
  const tail = readFileSync(logPath, "utf8").slice(offset);
  const esDropped = /elasticsearch backlog not sent before shutdown.* dropped=(\d+)/.exec(tail)?.[1];
  run.stop = { ...stopped, esDroppedAtStop: Number(esDropped ?? 0) };
}

async function restart(): Promise<void> {
  restarting = true;
  await endRun();
  await startRun();
  restarting = false;
}

const disk = new DiskLines();
let scrapeFailures = 0;

/** Scrapes every 5 s (as Prometheus would) and samples memory and CPU every 30 s, except while restarting. */
async function monitor(stop: AbortSignal): Promise<void> {
  for (let tick = 1; !stop.aborted; tick++) {
    await Bun.sleep(SCRAPE_S * 1000);
    if (restarting || stop.aborted) continue;
    const series = await agent.scrape().catch(() => {
      if (!restarting) scrapeFailures++;
    });
    const linesOnDisk = disk.count(tmpfs.dir);
    if (!series || restarting || tick % (SAMPLE_S / SCRAPE_S) !== 0) continue;
    try {
      sample(series, linesOnDisk);
    } catch (err) {
      console.error(`sample skipped: ${(err as Error).message}`); // the agent went away meanwhile (a restart)
    }
  }
}

/** RSS and CPU from /proc; CPU over the window since the previous sample of the same run. */
function sample(series: Series, linesOnDisk: number): void {
  const now = { run: runs.length - 1, seconds: agent.cpuSeconds(), at: performance.now() };
  const cpuPct = cpuMark.run === now.run ? ((now.seconds - cpuMark.seconds) / ((now.at - cpuMark.at) / 1000)) * 100 : NaN;
  cpuMark = now;
  if (Number.isNaN(cpuPct)) return;
  const load1 = Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
  const rss = agent.rss();
  const s: Sample = { t: (now.at - t0) / 1000, run: now.run, rssMiB: rss.total / 2 ** 20, anonMiB: rss.anon / 2 ** 20, cpuPct, load1, faults: [...faults].join(" "), series, sent: gen.sent, esAcked: fakeEs.acked.size, linesOnDisk };
  samples.push(s);
  console.error(`[${s.t.toFixed(0)} s] run ${s.run + 1} rss ${s.rssMiB.toFixed(1)} MiB (anon ${s.anonMiB.toFixed(1)}) cpu ${cpuPct.toFixed(1)}% load ${load1} faults: ${s.faults || "-"}`);
}

async function main(): Promise<void> {
  await setup();
  t0 = performance.now();
  await startRun();
  const stop = new AbortController();
  const monitoring = monitor(stop.signal);
  for (const [at, label, act] of schedule(MINUTES * 60)) {
    await Bun.sleep(Math.max(0, at * 1000 - (performance.now() - t0)));
    console.error(`[${((performance.now() - t0) / 1000).toFixed(0)} s] ${label}`);
    await act();
  }
  await Bun.sleep(Math.max(0, MINUTES * 60_000 - (performance.now() - t0)));
  stop.abort();
  await monitoring;
  await endRun();
  const reports = await Promise.all(clients.map((c) => c.finish()));
  clients = [];
  const totals = { sent: gen.sent, failed: gen.failed, esAcked: fakeEs.acked.size, esDuplicates: fakeEs.duplicates, linesOnDisk: disk.count(tmpfs.dir) };
  mkdirSync(buildDir, { recursive: true });
  const csv = join(buildDir, `soak-${stamp}.csv`);
  writeCsv(csv, samples);
  copyFileSync(join(work, "agent.log"), join(buildDir, `soak-${stamp}-agent.log`));
  const load = readFileSync("/proc/loadavg", "utf8").trim();
  console.log(`soak: ${MINUTES} min, ${SUBSCRIBERS} subscribers, ${RATE} drops/s (bursts of ${BURST_RATE}/s), ${runs.length} agent runs; scrape failures ${scrapeFailures}; loadavg at end ${load}`);
  console.log(summary(runs, samples, reports, totals));
  console.log(`time series: ${csv}`);
}

let cleaning: Promise<void> | undefined;

/** On success, failure or Ctrl-C, once: every caller waits for the same run, so nothing of the soak outlives it. */
function cleanup(): Promise<void> {
  cleaning ??= removeEverything();
  return cleaning;
}

async function removeEverything(): Promise<void> {
  gen.close();
  for (const c of clients) {
    c.proc.kill("SIGCONT");
    c.proc.kill("SIGKILL");
  }
  if (agent?.proc) await agent.stop().catch(() => undefined);
  fakeEs.stop();
  fakeKubelet?.stop();
  await node.cleanup().catch(() => undefined);
  tmpfs?.free();
  try {
    tmpfs?.unmount();
  } catch (err) {
    console.error(`unmount ${tmpfs.dir}: ${(err as Error).message}`);
  }
  rmSync(work, { recursive: true, force: true });
}

for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => void cleanup().then(() => process.exit(130)));
try {
  await main();
} finally {
  await cleanup();
}
