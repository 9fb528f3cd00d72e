// cpu_util container series: each container's CPU use in percent of what it may use (its cores), from its cgroup.
// v1: cpuacct.stat (usr/sys ticks) and cpuacct.usage (ns); v2: cpu.stat usage_usec, user_usec, system_usec.
import type { Emitter } from "../framework/types";
import type { CgroupFs } from "../pod/cgroup_reader";
import type { Container } from "../pod/types";
import { cpuUtilBetween, type CpuUsage, type CpuUtil } from "./cpu_util";
import { countCpuList, parseFlatKeyed } from "./parse";

/** cpuacct.stat counts USER_HZ ticks, fixed at 100 on x86_64 and arm64. */
const TICK_US = 10_000;
const MIN_REFRESH_US = 1_000_000;

/** v1 cpuacct.stat (`user`, `system` in ticks) plus cpuacct.usage (ns, all CPU time). */
export function parseCpuacct(stat: string, usage: string): CpuUsage {
  const kv = parseFlatKeyed(stat);
  return { usrUs: (kv.get("user") ?? 0) * TICK_US, sysUs: (kv.get("system") ?? 0) * TICK_US, totalUs: Number(usage.trim()) / 1000 };
}

/** v2 cpu.stat; `usage_usec` is the total, which also counts time neither user nor system (none today). */
export function parseCpuStatV2(text: string): CpuUsage | undefined {
  const kv = parseFlatKeyed(text);
  const total = kv.get("usage_usec");
  if (total === undefined) return undefined;
  return { usrUs: kv.get("user_usec") ?? 0, sysUs: kv.get("system_usec") ?? 0, totalUs: total };
}

/** CFS quota in cores from v1 quota/period files or v2 cpu.max; undefined when unlimited (-1 or "max"). */
export function quotaCores(quota: string | undefined, period: string | undefined): number | undefined {
  const q = Number(quota?.trim());
  const p = Number(period?.trim());
  return Number.isFinite(q) && q > 0 && Number.isFinite(p) && p > 0 ? q / p : undefined;
}

/** The CPUs a container may use: min(quota, cpuset), either absent meaning "no limit from it". */
export function containerCores(quota: number | undefined, cpusetCount: number | undefined, hostCores: number): number {
  return Math.min(quota ?? Infinity, cpusetCount || hostCores, hostCores);
}

interface Reading {
  usage: CpuUsage;
  cores: number;
}

async function readQuota(fs: CgroupFs, c: Container, v: 1 | 2): Promise<number | undefined> {
  if (v === 2) {
    const [quota, period] = (await fs.read(c, "cpu", "cpu.max"))?.trim().split(/\s+/) ?? [];
    return quotaCores(quota, period);
  }
  const [quota, period] = await Promise.all([fs.read(c, "cpu", "cpu.cfs_quota_us"), fs.read(c, "cpu", "cpu.cfs_period_us")]);
  return quotaCores(quota, period);
}

async function readUsage(fs: CgroupFs, c: Container, v: 1 | 2): Promise<CpuUsage | undefined> {
  if (v === 2) {
    const stat = await fs.read(c, "cpu", "cpu.stat");
    return stat === undefined ? undefined : parseCpuStatV2(stat);
  }
  const [stat, usage] = await Promise.all([fs.read(c, "cpuacct", "cpuacct.stat"), fs.read(c, "cpuacct", "cpuacct.usage")]);
  return stat === undefined || usage === undefined ? undefined : parseCpuacct(stat, usage);
}

/** CFS quota in cores and cpuset size of a container, undefined where unlimited. */
interface Limits {
  quota: number | undefined;
  cpus: number | undefined;
}

async function readLimits(fs: CgroupFs, c: Container, v: 1 | 2): Promise<Limits> {
  const cpusetFile = v === 2 ? "cpuset.cpus.effective" : "cpuset.cpus";
  const [quota, cpuset] = await Promise.all([readQuota(fs, c, v), fs.read(c, "cpuset", cpusetFile)]);
  return { quota, cpus: cpuset ? countCpuList(cpuset) : undefined };
}

/**
 * How long a container's CPU limits are trusted. They change when a pod is resized in place or, for the shared pool,
 * when the kubelet's CPU manager hands CPUs to another pod; a minute's lag is fine for a denominator, and reading
 * three files per container per scrape is not. Jittered ±50% so containers first seen together refresh apart.
 */
const LIMITS_TTL_MS = 60_000;

/** Per Container object: the pod layer keeps a container's object while nothing about it changes. */
const limitsOf = new WeakMap<Container, { limits: Promise<Limits>; expiresAt: number }>();

export function cachedLimits(fs: CgroupFs, c: Container, v: 1 | 2, now = Date.now()): Promise<Limits> {
  let cached = limitsOf.get(c);
  if (!cached || now >= cached.expiresAt) {
    cached = { limits: readLimits(fs, c, v), expiresAt: now + LIMITS_TTL_MS * (0.5 + Math.random()) };
    limitsOf.set(c, cached);
    const failed = cached;
    failed.limits.catch(() => limitsOf.get(c) === failed && limitsOf.delete(c));
  }
  return cached.limits;
}

/** Usage and capacity of one container; undefined when its cgroup is gone. */
export async function readContainerCpu(fs: CgroupFs, c: Container, hostCores: number): Promise<Reading | undefined> {
  const v = fs.dir(c, "cpuacct")?.version;
  if (v === undefined) return undefined;
  const [usage, limits] = await Promise.all([readUsage(fs, c, v), cachedLimits(fs, c, v)]);
  if (!usage) return undefined;
  return { usage, cores: containerCores(limits.quota, limits.cpus, hostCores) };
}

interface State {
  baseline: { usage: CpuUsage; atUs: number };
  util: CpuUtil;
  cores: number;
}

const IDLE: CpuUtil = { usr: 0, sys: 0, total: 0 };

/**
 * Per-container samples at most once a second; the first sample of a container reads as idle, and a pair that
 * cannot be trusted restarts the baseline but keeps the last good value.
 */
export class ContainerCpuUtil {
  private readonly states = new Map<string, State>();

  update(c: Container, reading: Reading, atUs: number): State {
    const prev = this.states.get(c.id);
    if (prev && atUs - prev.baseline.atUs < MIN_REFRESH_US) return prev;
    const cur = { usage: reading.usage, atUs };
    const util = (prev && cpuUtilBetween(prev.baseline, cur, reading.cores)) ?? prev?.util ?? IDLE;
    const state = { baseline: cur, util, cores: reading.cores };
    this.states.set(c.id, state);
    return state;
  }

  /** Drops containers no longer listed so the map stays the size of the container list. */
  retain(live: Container[]): void {
    const ids = new Set(live.map((c) => c.id));
    for (const id of this.states.keys()) if (!ids.has(id)) this.states.delete(id);
  }
}

export function emitContainerCpu(out: Emitter, state: State): void {
  out.gauge("cores", "cpu core number for the containers", state.cores);
  out.gauge("usr", "cpu usr for the containers", state.util.usr);
  out.gauge("sys", "cpu sys for the containers", state.util.sys);
  out.gauge("total", "cpu total for the containers", state.util.total);
}
