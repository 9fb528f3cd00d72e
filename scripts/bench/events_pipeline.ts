// Benchmark (issue 5): the event pipeline kernel → ring buffer → decode → local file → SSE, stage by stage, with every
// loss counted: (a) the real daemon at dropwatch's cap, (b) decode + persist + fan-out in-process at high rate from the
// selftest BPF program, (c) 100 SSE subscribers over HTTP at 1,000 events/s. Prints figures only.
import { spawn } from "bun";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { decodeSelftestEvent } from "../../src/bpf/gen/selftest";
import { loadTracer } from "../../src/bpf/loader";
import { constant, type BpfObject } from "../../src/bpf/object";
import { EventStream } from "../../src/events/net_common";
import { Logger, logToStderr, setLogLevel } from "../../src/log";
import { HttpServer } from "../../src/server/http";
import { createSelfMetrics } from "../../src/server/self_metrics";
import { registerWatchRoute } from "../../src/server/watch";
import type { TracerData } from "../../src/storage/document";
import { LocalFileStore } from "../../src/storage/local_file";
import { DocumentSink } from "../../src/storage/sink";
import { WatchHub } from "../../src/watch/hub";
import { scrape, startDaemon, workDir, type DaemonHandle } from "../../tests/support/daemon";
import { countLines, parseSeries, value } from "./soak_agent";
import { DropGenerator } from "./soak_faults";
import { mergeHistograms, percentile, spawnWatchClients, type ProcessReport } from "./soak_watch_clients";

const { values: args } = parseArgs({ options: { only: { type: "string", default: "abc" } } });
const fmt = (n: number) => Math.round(n).toLocaleString("en");
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const MB = 1 << 20;

/** Received, notified losses and silent gaps over every subscriber of one or more client processes. */
function watchAccount(reports: ProcessReport[]) {
  const views = reports.flatMap((r) => r.clients.flatMap((c) => c.runs));
  const per = reports.flatMap((r) => r.clients.map((c) => sum(c.runs.map((v) => v.received))));
  const hist = mergeHistograms(reports.map((r) => r.latency));
  return {
    min: Math.min(...per),
    max: Math.max(...per),
    total: sum(per),
    dropped: sum(views.map((v) => v.dropped + v.gapLost)),
    unexplained: sum(views.map((v) => v.unexplained + v.duplicates)),
    p50: percentile(hist, 0.5),
    p99: percentile(hist, 0.99),
    max_ms: percentile(hist, 1),
  };
}

function cpuSecondsOf(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

// ---- (a) the real daemon, end to end, at dropwatch's in-kernel cap ----

const A_RATE = 1000;
const A_SECONDS = 30;
const A_SUBSCRIBERS = 10;

/** The daemon's counters: its exposition, and events saved by dropwatch and by every tracer (/tracers). */
async function counters(d: DaemonHandle) {
  const series = parseSeries(await scrape(d));
  const tracers = ((await (await fetch(d.url("/tracers"))).json()) as { data: Array<{ name: string; events: number }> }).data;
  const dw = (w: string) => value(series, `huatuo_bamai_dropwatch_${w}_total`);
  const events = tracers.find((t) => t.name === "dropwatch")!.events;
  return { series, events, seen: events + dw("ratelimited") + dw("lost") + dw("excluded"), saved: sum(tracers.map((t) => t.events)) };
}

/** Runs the built daemon under UDP drops to closed ports; returns one stored dropwatch record for (c). */
async function realDaemon(): Promise<TracerData> {
  const store = join(workDir("huatuo-pipeline-"), "local");
  const d = await startDaemon({ procfsPrefix: null, config: `[Storage.LocalFile]\nPath = "${store}"\n` });
  const clients = spawnWatchClients(d.url("/v1/events/watch"), A_SUBSCRIBERS);
  while (value(parseSeries(await scrape(d)), "huatuo_bamai_events_watch_clients") < A_SUBSCRIBERS) await Bun.sleep(50);
  const gen = new DropGenerator();
  await gen.init();
  const [c0, cpu0, t0] = [await counters(d), cpuSecondsOf(d.proc.pid), performance.now()];
  gen.rate(A_RATE);
  await Bun.sleep(A_SECONDS * 1000);
  gen.rate(0);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSecondsOf(d.proc.pid) - cpu0;
  await Bun.sleep(2000); // the last records reach the file and the subscribers
  const c1 = await counters(d);
  const w = watchAccount([await clients.finish()]);
  gen.close();
  await d.stop();
  const s = (r: string) => value(c1.series, "huatuo_bamai_storage_documents_total", `backend="local_file",result="${r}"`);
  const lines = countLines(join(store, "dropwatch"));
  const published = value(c1.series, "huatuo_bamai_events_watch_published_total");
  console.log(`(a) built daemon, all default tracers, ${A_RATE} UDP datagrams/s to closed loopback ports for ${seconds.toFixed(1)} s, ${A_SUBSCRIBERS} SSE subscribers (load ${load()})`);
  console.log(`    kernel drops seen by dropwatch   ${fmt(c1.seen - c0.seen)} (${fmt((c1.seen - c0.seen) / seconds)}/s; we sent ${fmt(gen.sent)}, the rest are other drops on this host)`);
  console.log(`    reported (ring buffer → decoded) ${fmt(c1.events - c0.events)} = ${fmt((c1.events - c0.events) / seconds)}/s; rate-limited ${fmt(value(c1.series, "huatuo_bamai_dropwatch_ratelimited_total") - value(c0.series, "huatuo_bamai_dropwatch_ratelimited_total"))}, lost ${fmt(value(c1.series, "huatuo_bamai_dropwatch_lost_total"))}`);
  console.log(`    since start: saved ${fmt(c1.saved)} (dropwatch ${fmt(c1.events)}); local stored ${fmt(s("stored"))}, dropped ${fmt(s("dropped"))}; dropwatch lines in the file ${fmt(lines)}; published ${fmt(published)}`);
  console.log(`    SSE: received per subscriber ${fmt(w.min)}..${fmt(w.max)} of ${fmt(published)} published; told dropped ${fmt(w.dropped)}; unexplained ${fmt(w.unexplained)}; latency p50 ${w.p50} ms, p99 ${w.p99} ms`);
  console.log(`    daemon CPU ${((cpu / seconds) * 100).toFixed(1)}% of one core`);
  const record = JSON.parse(readFileSync(join(store, "dropwatch"), "utf8").split("\n")[0]!) as { tracer_data: TracerData };
  for (const dir of [d.dir, dirname(store)]) rmSync(dir, { recursive: true, force: true });
  return record.tracer_data;
}

// ---- (b) decode + persist + fan-out in-process, from the selftest program's ring buffer ----

/** A process whose every write(2) is one 56-byte ring buffer record; held until `go` exists so its pid is known. */
function producer(dir: string, cmd: string) {
  const go = join(dir, "go");
  const proc = spawn(["sh", "-c", `while [ ! -e ${go} ]; do sleep 0.01; done; exec ${cmd}`], { stdout: "ignore", stderr: "ignore" });
  return { proc, start: () => writeFileSync(go, "") };
}

const dd = (n: number) => `dd if=/dev/zero of=/dev/null bs=1 count=${n}`;
/** write(2) of one byte at `rate` per second, `n` in all (perl: no per-call process, steady pacing every 1 ms). */
const paced = (rate: number, n: number) =>
  `perl -MTime::HiRes=time,sleep -e 'open(my $f, ">", "/dev/null"); my $t = time; my $i = 0; while ($i < ${n}) { my $due = int((time - $t) * ${rate}); $due = ${n} if $due > ${n}; for (; $i < $due; $i++) { syswrite($f, "x", 1) } sleep(0.001) }'`;

async function loadSelftest(pid: number): Promise<BpfObject> {
  return loadTracer({
    object: "selftest",
    hooks: [{ name: "sys_enter_write", candidates: [{ kind: "tracepoint", program: "selftest_write", target: "syscalls/sys_enter_write" }] }],
    constants: { target_tgid: constant.u32(pid) },
    events: { ringbuf: "selftest_rb", perfbuf: "selftest_pb", perfFlag: "use_perf" },
  });
}

function producedBy(object: BpfObject): number {
  return Number(object.map("selftest_calls").lookup(constant.u32(0))!.readBigUInt64LE(0));
}

/** Drain and decode only, as fast as the ring buffer fills: the decode stage alone. */
async function decodeOnly(n: number): Promise<void> {
  const dir = workDir("huatuo-pipeline-");
  const { proc, start } = producer(dir, dd(n));
  const object = await loadSelftest(proc.pid);
  const reader = object.events();
  let decoded = 0;
  let exited = false;
  void proc.exited.then(() => (exited = true));
  start();
  let first = 0;
  for (;;) {
    const got = reader.drain(decodeSelftestEvent, () => decoded++);
    if (got > 0 && !first) first = performance.now();
    if (got === 0 && exited) break;
    if (got === 0) await Bun.sleep(0);
  }
  const seconds = (performance.now() - first) / 1000;
  const [produced, lost] = [producedBy(object), reader.lost()];
  object.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(`(b1) decode only, dd bs=1 count=${fmt(n)} at full speed (load ${load()})`);
  console.log(`     produced ${fmt(produced)} = decoded ${fmt(decoded)} + lost in the ring (counted in BPF) ${fmt(lost)}; unaccounted ${fmt(produced - decoded - lost)}`);
  console.log(`     decoded ${fmt(decoded / seconds)} events/s (goal >= 100,000)`);
}

/** The daemon's event path in-process: EventStream.pump → DocumentSink.save → local file + watch hub → a subscriber. */
async function persistAndFanOut(label: string, cmd: string): Promise<void> {
  const dir = workDir("huatuo-pipeline-");
  const log = new Logger("bench");
  const local = new LocalFileStore({ dir: join(dir, "local"), rotationBytes: 1024 * MB, maxRotation: 1, log });
  const hub = new WatchHub({ hostname: "bench", backlogSize: 1000, clientQueueSize: 256 });
  const sink = new DocumentSink({ origin: { hostname: "bench", region: "bench" }, backends: [local], publisher: hub, log });
  const sub = hub.subscribe({});
  const reading = (async () => {
    while ((await sub.next()) !== undefined);
  })();
  const { proc, start } = producer(dir, cmd);
  const object = await loadSelftest(proc.pid);
  const stream = new EventStream(object, decodeSelftestEvent);
  const stop = new AbortController();
  let decoded = 0;
  let [first, last] = [0, 0];
  const pumping = stream.pump((e) => {
    if (decoded++ === 0) first = performance.now();
    last = performance.now();
    sink.save({ tracerName: "selftest", data: { ...e } });
  }, stop.signal);
  const cpu0 = process.cpuUsage();
  start();
  await proc.exited;
  await Bun.sleep(300); // the pump reads what the ring buffer still holds
  stop.abort();
  await pumping;
  await local.flush();
  const persisted = (performance.now() - first) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const [produced, lost] = [producedBy(object), stream.lost];
  object.close();
  hub.unsubscribe(sub);
  await reading;
  await sink.close(5000);
  const lines = countLines(join(dir, "local", "selftest"));
  rmSync(dir, { recursive: true, force: true });
  const c = local.counts;
  const w = hub.counters;
  console.log(`(b) ${label}: EventStream.pump → DocumentSink → local file + watch hub with one subscriber (load ${load()})`);
  console.log(`    produced ${fmt(produced)} = decoded and saved ${fmt(decoded)} + lost in the ring ${fmt(lost)}; unaccounted ${fmt(produced - decoded - lost)}`);
  console.log(`    local file: stored ${fmt(c.stored)} (lines ${fmt(lines)}) + dropped ${fmt(c.dropped)} (8 MiB write backlog full) = ${fmt(c.stored + c.dropped)}`);
  console.log(`    watch: published ${fmt(w.published)} = delivered ${fmt(w.delivered)} + slow_client ${fmt(w.dropped.slow_client)} + disconnected ${fmt(w.dropped.disconnected)}`);
  console.log(`    decoded+saved ${fmt(decoded / ((last - first) / 1000))} events/s; persisted ${fmt(c.stored / persisted)} events/s (first record → last line written; goal >= 20,000); CPU ${(((cpu.user + cpu.system) / 1e6 / persisted) * 100).toFixed(0)}% of one core`);
}

// ---- (c) watch fan-out over HTTP: the daemon's server, hub and sink in-process, clients in child processes ----

const C_RATE = 1000;
const C_SECONDS = 30;
const C_SUBSCRIBERS = 100;
const C_PROCESSES = 2;

async function fanOut(data: TracerData): Promise<void> {
  const dir = workDir("huatuo-pipeline-");
  const log = new Logger("bench");
  const local = new LocalFileStore({ dir: join(dir, "local"), rotationBytes: 100 * MB, maxRotation: 10, log });
  const hub = new WatchHub({ hostname: "bench", backlogSize: 1000, clientQueueSize: 256 });
  const sink = new DocumentSink({ origin: { hostname: "bench", region: "bench" }, backends: [local], publisher: hub, log });
  const http = new HttpServer({ listenAddress: "127.0.0.1:0", requestsPerSecond: 200, maxBodyBytes: 4 * MB, log, metrics: createSelfMetrics({}) });
  registerWatchRoute(http, { hub, limits: () => ({ maxClients: 200, keepAliveMs: 30_000 }), log });
  const { port } = http.listen();
  const url = `http://127.0.0.1:${port}/v1/events/watch`;
  const clients = Array.from({ length: C_PROCESSES }, () => spawnWatchClients(url, C_SUBSCRIBERS / C_PROCESSES));
  while (hub.clients() < C_SUBSCRIBERS) await Bun.sleep(50);
  const clientCpu0 = sum(clients.map((c) => cpuSecondsOf(c.proc.pid)));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let injected = 0;
  while (performance.now() - t0 < C_SECONDS * 1000) {
    const due = Math.floor(((performance.now() - t0) / 1000) * C_RATE);
    for (; injected < due; injected++) sink.save({ tracerName: "dropwatch", data });
    await Bun.sleep(1);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const clientCpu = sum(clients.map((c) => cpuSecondsOf(c.proc.pid))) - clientCpu0;
  await Bun.sleep(2000);
  const w = watchAccount(await Promise.all(clients.map((c) => c.finish())));
  hub.close();
  await http.stop();
  await sink.close(5000);
  rmSync(dir, { recursive: true, force: true });
  const bytes = Buffer.byteLength(JSON.stringify(data));
  console.log(`(c) watch fan-out: ${C_SUBSCRIBERS} subscribers over HTTP (${C_PROCESSES} client processes) at ${C_RATE} events/s for ${seconds.toFixed(1)} s; tracer_data of a real dropwatch record, ${fmt(bytes)} B (load ${load()})`);
  console.log(`    injected ${fmt(injected)}; local stored ${fmt(local.counts.stored)}, dropped ${fmt(local.counts.dropped)}; published ${fmt(hub.counters.published)}`);
  console.log(`    received per subscriber ${fmt(w.min)}..${fmt(w.max)} (all ${fmt(w.total)} = agent delivered ${fmt(hub.counters.delivered)}); told dropped ${fmt(w.dropped)} (agent slow_client ${fmt(hub.counters.dropped.slow_client)}); unexplained ${fmt(w.unexplained)}`);
  console.log(`    delivery latency (document built → received) p50 ${w.p50} ms, p99 ${w.p99} ms, max ${w.max_ms} ms (goal p99 < 100 ms)`);
  console.log(`    agent side (HTTP server + hub + sink + injector) CPU ${((((cpu.user + cpu.system) / 1e6) / seconds) * 100).toFixed(0)}% of one core; subscribers' processes ${((clientCpu / seconds) * 100).toFixed(0)}%`);
}

// Storage and watch log their drops (counted below) as errors: to stderr, away from the figures.
logToStderr();
setLogLevel("warn");
const only = args.only!;
// (c) sends the record (a) stored, so its payload is a real dropwatch event: asking for c runs a too.
const record = /[ac]/.test(only) ? await realDaemon() : undefined;
if (only.includes("b")) {
  await decodeOnly(2_000_000);
  await persistAndFanOut("dd at full speed, 1,000,000 writes", dd(1_000_000));
  for (const rate of [20_000, 35_000, 50_000]) await persistAndFanOut(`paced at ${fmt(rate)} writes/s for 10 s`, paced(rate, rate * 10));
}
if (record && only.includes("c")) await fanOut(record);
