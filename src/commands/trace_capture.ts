// The one-shot captures behind `huatuo-bamai trace <name>`: the detectors' captures, taken now for --duration
// seconds, with the measured state in place of the trigger's (the thresholds are the config's, for reference).
import { sleep } from "../framework/sleep";
import { captureCpusys, CpusysDetector, readCpuTimes } from "../autotracing/cpusys";
import { cpuidleData, onlineCpus, profileContainer, sampleContainer } from "../autotracing/cpuidle";
import { ContainerCpuTracker } from "../autotracing/cpuidle_core";
import { blockedTasks, containerTids, countThreads, dloadData, hostBlocked } from "../autotracing/dload";
import { LoadTracker, type BlockedTask, type TaskCounts } from "../autotracing/dload_core";
import { captureWithConfig, iotracingData, readDiskstats, type ReasonSnapshot } from "../autotracing/iotracing";
import { diskMetrics, ioStatus, ZERO_METRICS, type DiskMetrics, type DiskRaw } from "../autotracing/iotracing_core";
import { readMeminfo, topMemory } from "../autotracing/memburst";
import { listThreads } from "../autotracing/procs";
import type { Config } from "../config/schema";
import type { Container } from "../pod/types";
import type { Profile } from "../profiler/profile";
import type { TracerData } from "../storage/document";

export interface TraceRequest {
  config: Config;
  durationS: number;
  container?: Container;
  containers: Container[];
  signal: AbortSignal;
}

export interface TraceResult {
  data: TracerData;
  container?: Container;
  /** cpusys and cpuidle: the profile behind the flame graph, for the stack table. */
  profile?: Profile;
  /** A line saying what was measured, for the terminal. */
  headline: string;
}

export async function traceCpusys(req: TraceRequest): Promise<TraceResult> {
  const cfg = req.config.AutoTracing.CPUSys;
  const detector = new CpusysDetector();
  detector.feed(await readCpuTimes());
  const { data, profile } = await captureCpusys(cfg, { nowSys: 0, deltaSys: 0 }, req.durationS, req.signal);
  const reading = detector.feed(await readCpuTimes());
  data.now_sys = reading?.nowSys ?? 0;
  return { data, profile, headline: `host system CPU ${data.now_sys}% over the capture (threshold ${cfg.SysThreshold}%)` };
}

export async function traceCpuidle(req: TraceRequest): Promise<TraceResult> {
  const cfg = req.config.AutoTracing.CPUIdle;
  const c = req.container!;
  const cores = await onlineCpus();
  const tracker = new ContainerCpuTracker();
  const first = await sampleContainer(c, cores);
  if (!first) throw new Error(`container ${c.id.slice(0, 12)}: its cgroup is gone`);
  tracker.feed(first);
  const profile = await profileContainer(c, req.durationS, req.signal);
  const last = await sampleContainer(c, cores);
  const reading = (last && tracker.feed(last)) ?? { pct: { user: 0, sys: 0, usage: 0 }, delta: { user: 0, sys: 0, usage: 0 } };
  const data = cpuidleData(cfg, reading, profile);
  const p = reading.pct;
  return { data, profile, container: c, headline: `container CPU user ${p.user}% sys ${p.sys}% total ${p.usage}% of its cores over the capture` };
}

/** Samples task states each second; a D task seen at any sample is reported with the stack it had then. */
export async function traceDload(req: TraceRequest): Promise<TraceResult> {
  const cfg = req.config.AutoTracing.Dload;
  const tracker = new LoadTracker();
  const seen = new Map<number, BlockedTask>();
  let counts: TaskCounts | undefined;
  const deadline = performance.now() + req.durationS * 1000;
  do {
    const threads = req.container ? await containerTids(req.container) : await listThreads();
    if (!threads) throw new Error(`container ${req.container!.id.slice(0, 12)}: its cgroup is gone`);
    const sample = await countThreads(threads);
    counts = sample.counts;
    tracker.feed(counts.nrRunning, counts.nrUninterruptible);
    for (const t of await blockedTasks(sample.stats)) if (!seen.has(t.tid) || t.frames.length) seen.set(t.tid, t);
    await sleep(Math.min(1000, Math.max(0, deadline - performance.now())), req.signal);
  } while (performance.now() < deadline && !req.signal.aborted);
  const host = req.container ? await hostBlocked() : undefined;
  const data = dloadData(cfg, req.config.AutoTracing.IssuesList, { counts, tracker, inside: [...seen.values()], host });
  const scope = req.container ? "container" : "host";
  return { data, container: req.container, headline: `${scope} load ${data.load_avg}, D-state load ${data.dload_avg}; ${seen.size} tasks seen in D state` };
}

/** The disk busiest over the capture (utilisation, then bytes), as the manual capture's reason. */
function busiest(before: DiskRaw[], after: DiskRaw[], seconds: number): ReasonSnapshot {
  const base = new Map(before.map((d) => [d.name, d]));
  const measured = after.flatMap((d) => {
    const b = base.get(d.name);
    return b && !d.name.startsWith("md") ? [{ d, m: diskMetrics(b, d, seconds) }] : [];
  });
  const score = (m: DiskMetrics) => m.io_util * 1e12 + m.read_bps + m.write_bps;
  const top = measured.sort((a, b) => score(b.m) - score(a.m))[0];
  const s = ioStatus(top?.m ?? ZERO_METRICS);
  const at = top ? `${top.d.name}(${top.d.major}:${top.d.minor})` : "no disk";
  return {
    type: "manual", device: top?.d.name ?? "", major_num: top?.d.major ?? 0, minor_num: top?.d.minor ?? 0, iostatus: s,
    summary: `manual capture; busiest disk ${at}: ioutil=${s.io_util}%, r=${s.read_bps}MB/s w=${s.write_bps}MB/s, r_await=${s.read_await}ms w_await=${s.write_await}ms`,
  };
}

export async function traceIotracing(req: TraceRequest): Promise<TraceResult> {
  const cfg = req.config.AutoTracing.IOTracing;
  const before = await readDiskstats();
  const started = performance.now();
  const cap = await captureWithConfig(cfg, before, req.containers, req.durationS, req.signal);
  const reason = busiest(before, await readDiskstats(), (performance.now() - started) / 1000);
  return { data: iotracingData(reason, cap), headline: reason.summary };
}

export async function traceMemburst(req: TraceRequest): Promise<TraceResult> {
  const cfg = req.config.AutoTracing.MemoryBurst;
  const mem = await readMeminfo();
  const top = await topMemory(cfg.DumpProcessMaxNum);
  const pct = Math.round((mem.anonKb * 100) / mem.memTotalKb);
  return { data: { top_memory_usage: top }, headline: `anonymous memory ${Math.round(mem.anonKb / 1024)} MiB, ${pct}% of ${Math.round(mem.memTotalKb / 1024)} MiB` };
}

export const CAPTURES = {
  cpusys: traceCpusys,
  cpuidle: traceCpuidle,
  dload: traceDload,
  iotracing: traceIotracing,
  memburst: traceMemburst,
} as const;
