// dload: D-state load in containers. Each Interval, every container's tasks are counted by state and fed to the
// kernel's load-average arithmetic; when the D-state 1-minute average passes ThresholdLoad (and the container is out
// of its cooldown), the kernel stacks of its D tasks, and of the host's, are stored.
// The original asks cgroupstats over netlink, which only knows cgroup v1; task states read from /proc work on both.
import type { Config } from "../config/schema";
import { registerTracer } from "../framework/registry";
import type { Tracer, TracerContext } from "../framework/types";
import { hostCgroups } from "../pod/cgroup_reader";
import type { Container } from "../pod/types";
import type { TracerData } from "../storage/document";
import { Cooldown, DetectorStats, saveCapture, tickEvery } from "./common";
import {
  classifyIssue,
  countTaskStates,
  formatBlocked,
  inIoWait,
  LoadTracker,
  type BlockedTask,
  type TaskCounts,
} from "./dload_core";
import { kernelStack, listThreads, tgidOf, threadStat, type ThreadStat } from "./procs";

type DloadConfig = Config["AutoTracing"]["Dload"];

/** The container's threads: v1 `tasks` of its cpu cgroup, v2 `cgroup.threads`; undefined when it is gone. */
export async function containerTids(c: Container): Promise<number[] | undefined> {
  const fs = hostCgroups();
  const v = fs.dir(c, "cpu")?.version;
  const text = v === undefined ? undefined : await fs.read(c, "cpu", v === 1 ? "tasks" : "cgroup.threads");
  return text?.split("\n").filter((t) => /^\d+$/.test(t)).map(Number);
}

/** Host threads as [pid, tid]; container threads are addressed as /proc/<tid> directly. */
type ThreadRef = number | [number, number];

async function stats(threads: readonly ThreadRef[]): Promise<ThreadStat[]> {
  const read = await Promise.all(threads.map((t) => (typeof t === "number" ? threadStat(t) : threadStat(t[1], t[0]))));
  return read.filter((s): s is ThreadStat => s !== undefined);
}

export async function countThreads(threads: readonly ThreadRef[]): Promise<{ counts: TaskCounts; stats: ThreadStat[] }> {
  const s = await stats(threads);
  return { counts: countTaskStates(s.map((t) => t.state)), stats: s };
}

/** D tasks among `stats`, with their kernel stacks (a task that woke meanwhile keeps the stack it has now). */
export async function blockedTasks(stats: readonly ThreadStat[]): Promise<BlockedTask[]> {
  const d = stats.filter((s) => s.state === "D");
  return Promise.all(d.map(async (s) => ({ tid: s.tid, tgid: await tgidOf(s.tid), comm: s.comm, frames: await kernelStack(s.tid) })));
}

export interface DloadCapture {
  counts: TaskCounts;
  tracker: LoadTracker;
  /** D tasks of the container (or of the host when tracing the host). */
  inside: BlockedTask[];
  /** D tasks of the host, shown after the container's; undefined when tracing the host itself. */
  host?: BlockedTask[];
}

export function dloadData(cfg: DloadConfig, issues: Config["AutoTracing"]["IssuesList"], cap: DloadCapture): TracerData {
  const inside = formatBlocked(cap.host ? "cgroup" : "host", cap.inside);
  const stack = cap.host ? `${inside}\n${formatBlocked("host", cap.host)}` : inside;
  return {
    threshold: cfg.ThresholdLoad,
    nr_sleeping: cap.counts.nrSleeping,
    nr_running: cap.counts.nrRunning,
    nr_stopped: cap.counts.nrStopped,
    nr_uninterruptible: cap.counts.nrUninterruptible,
    nr_iowait: cap.inside.filter(inIoWait).length,
    load_avg: cap.tracker.loadAvg,
    dload_avg: cap.tracker.dloadAvg,
    known_issue: classifyIssue(issues, inside),
    stack,
  };
}

export async function hostBlocked(): Promise<BlockedTask[]> {
  return blockedTasks(await stats(await listThreads()));
}

interface Tracked {
  cgroupPath: string;
  tracker: LoadTracker;
  counts?: TaskCounts;
  stats?: ThreadStat[];
}

export class DloadTracer implements Tracer {
  readonly hook = "procfs:task-states";
  readonly collector = new DetectorStats();
  private readonly tracked = new Map<string, Tracked>();
  private readonly cooldown = new Cooldown();

  constructor(
    private readonly ctx: TracerContext,
    private readonly now: () => number = Date.now,
  ) {}

  run(signal: AbortSignal): Promise<void> {
    return tickEvery(signal, () => this.ctx.config.get().AutoTracing.Dload.Interval * 1000, () => this.tick());
  }

  /** One tick: count every container's tasks, capture the most loaded one past the threshold. */
  async tick(): Promise<string | undefined> {
    const cfg = this.ctx.config.get().AutoTracing.Dload;
    const containers = this.ctx.containers.list();
    await Promise.all(containers.map((c) => this.sample(c)));
    this.forgetGone(containers);
    const now = this.now();
    const over = containers.filter((c) => this.tracked.get(c.id)!.tracker.dloadAvg > cfg.ThresholdLoad);
    this.collector.triggers += over.length;
    const ready = over.filter((c) => this.cooldown.ready(c.id, now, cfg.IntervalTracing));
    this.collector.cooldownSkips += over.length - ready.length;
    const dload = (c: Container) => this.tracked.get(c.id)!.tracker.dload[0]!;
    const chosen = ready.sort((a, b) => dload(b) - dload(a) || (a.id < b.id ? -1 : 1))[0];
    return chosen && this.capture(chosen, cfg, now);
  }

  private async sample(c: Container): Promise<void> {
    let t = this.tracked.get(c.id);
    if (t?.cgroupPath !== c.cgroupPath) this.tracked.set(c.id, (t = { cgroupPath: c.cgroupPath, tracker: new LoadTracker() }));
    const tids = await containerTids(c).catch(() => undefined);
    if (!tids) return;
    const { counts, stats } = await countThreads(tids);
    t.tracker.feed(counts.nrRunning, counts.nrUninterruptible);
    Object.assign(t, { counts, stats });
  }

  private forgetGone(containers: readonly Container[]): void {
    const ids = new Set(containers.map((c) => c.id));
    for (const id of this.tracked.keys()) if (!ids.has(id)) this.tracked.delete(id);
    this.cooldown.retain(ids);
  }

  /**
   * The original marks the cooldown even when no D task is left to show; here a tick that finds none stores
   * nothing and keeps the container ready, so a pile-up that lasts is still caught on a later tick.
   */
  private async capture(c: Container, cfg: DloadConfig, now: number): Promise<string | undefined> {
    const t = this.tracked.get(c.id)!;
    const cap = await this.collector.capture(async () => {
      const inside = await blockedTasks(t.stats ?? []);
      return { counts: t.counts!, tracker: t.tracker, inside, host: inside.length ? await hostBlocked() : [] };
    });
    if (cap.inside.length === 0) return undefined;
    this.cooldown.mark(c.id, now);
    const id = saveCapture(this.ctx, "dload", dloadData(cfg, this.ctx.config.get().AutoTracing.IssuesList, cap), c, new Date(now));
    this.ctx.log.info("dload captured", { tracer_id: id, container_id: c.id, dload_avg: t.tracker.dloadAvg });
    return id;
  }
}

registerTracer({
  name: "dload",
  kind: "autotracing",
  description: "container D-state load average → kernel stacks of its D tasks and the host's",
  restartInterval: 30,
  create: (ctx) => new DloadTracer(ctx),
});
