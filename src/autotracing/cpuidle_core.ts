// cpuidle's decision core, pure: per-container CPU percentages and their rise between samples, the three trigger
// conditions with a score, the choice of one container per tick, and the container filter of the config.
import type { Container } from "../pod/types";

export interface CpuPercents {
  user: number;
  sys: number;
  usage: number;
}

export interface CpuidleReading {
  pct: CpuPercents;
  delta: CpuPercents;
}

/** Cumulative CPU time of a container (µs) when sampled (µs, monotonic), and the cores it may use. */
export interface CpuidleSample {
  userUs: number;
  sysUs: number;
  totalUs: number;
  atUs: number;
  cores: number;
}

export interface CpuidleThresholds {
  user: number;
  sys: number;
  usage: number;
  deltaUser: number;
  deltaSys: number;
  deltaUsage: number;
}

/** One container's samples: the first is a baseline, the first percentages have a zero rise. */
export class ContainerCpuTracker {
  private base?: CpuidleSample;
  private previous?: CpuPercents;

  feed(s: CpuidleSample): CpuidleReading | undefined {
    const base = this.base;
    this.base = s;
    if (!base) return undefined;
    const wall = s.atUs - base.atUs;
    const d = { user: s.userUs - base.userUs, sys: s.sysUs - base.sysUs, usage: s.totalUs - base.totalUs };
    if (wall <= 0 || s.cores <= 0 || d.user < 0 || d.sys < 0 || d.usage < 0) {
      this.previous = undefined;
      return undefined;
    }
    // int64(Δusage·100/Δwall/capacity): truncated, as the original computes it
    const pct = (x: number) => Math.trunc((x * 100) / wall / s.cores);
    const now = { user: pct(d.user), sys: pct(d.sys), usage: pct(d.usage) };
    const prev = this.previous ?? now;
    this.previous = now;
    return { pct: now, delta: { user: now.user - prev.user, sys: now.sys - prev.sys, usage: now.usage - prev.usage } };
  }
}

/**
 * How far past its thresholds a reading is: the best of the satisfied conditions' (pct − thr) + (delta − deltaThr);
 * undefined when none holds. Every comparison is strict, as in the original.
 */
export function cpuidleScore(r: CpuidleReading, t: CpuidleThresholds): number | undefined {
  const conditions: Array<[number, number, number, number]> = [
    [r.pct.user, t.user, r.delta.user, t.deltaUser],
    [r.pct.sys, t.sys, r.delta.sys, t.deltaSys],
    [r.pct.usage, t.usage, r.delta.usage, t.deltaUsage],
  ];
  let best: number | undefined;
  for (const [pct, thr, delta, deltaThr] of conditions) {
    if (pct > thr && delta > deltaThr) best = Math.max(best ?? -Infinity, pct - thr + (delta - deltaThr));
  }
  return best;
}

/** The highest score wins; a tie goes to the smallest container id. */
export function pickCandidate<T extends { id: string; score: number }>(candidates: T[]): T | undefined {
  return candidates.reduce<T | undefined>((best, c) => {
    if (!best || c.score > best.score || (c.score === best.score && c.id < best.id)) return c;
    return best;
  }, undefined);
}

export interface FilterRule {
  Field: "container_host_namespace" | "container_hostname" | "container_qos";
  Pattern: string;
}

function fieldOf(c: Container, field: FilterRule["Field"]): string {
  if (field === "container_host_namespace") return c.namespace;
  if (field === "container_qos") return c.qos;
  return c.hostname;
}

/** Included rules must all match; a container is excluded only when every Excluded rule matches (the original's). */
export function passesContainerFilter(c: Container, included: readonly FilterRule[], excluded: readonly FilterRule[]): boolean {
  const matches = (r: FilterRule) => new RegExp(r.Pattern).test(fieldOf(c, r.Field));
  if (!included.every(matches)) return false;
  return excluded.length === 0 || !excluded.every(matches);
}
