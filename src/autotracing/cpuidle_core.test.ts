// cpuidle: percentages and rises per container, the three conditions and their score, the choice, the filter.
import { describe, expect, test } from "bun:test";
import type { Container } from "../pod/types";
import { ContainerCpuTracker, cpuidleScore, passesContainerFilter, pickCandidate, type CpuidleSample } from "./cpuidle_core";

const T = { user: 75, sys: 45, usage: 90, deltaUser: 45, deltaSys: 20, deltaUsage: 55 };

/** Cumulative µs at second `s` of a one-core container. */
const at = (s: number, userUs: number, sysUs: number, cores = 1): CpuidleSample => ({ userUs, sysUs, totalUs: userUs + sysUs, atUs: s * 1e6, cores });

describe("ContainerCpuTracker", () => {
  test("baseline, then percentages of the container's cores with a zero first rise, then rises", () => {
    const t = new ContainerCpuTracker();
    expect(t.feed(at(0, 0, 0))).toBeUndefined();
    expect(t.feed(at(10, 1e6, 0))).toEqual({ pct: { user: 10, sys: 0, usage: 10 }, delta: { user: 0, sys: 0, usage: 0 } });
    expect(t.feed(at(20, 1e6 + 8.5e6, 1e6))).toEqual({ pct: { user: 85, sys: 10, usage: 95 }, delta: { user: 75, sys: 10, usage: 85 } });
  });

  test("capacity is the container's cores; percentages are truncated", () => {
    const t = new ContainerCpuTracker();
    t.feed(at(0, 0, 0, 2));
    expect(t.feed(at(1, 1.999e6, 0, 2))!.pct.user).toBe(99);
  });

  test("a counter going back or no elapsed time restarts the percentages", () => {
    const t = new ContainerCpuTracker();
    t.feed(at(0, 5e6, 0));
    t.feed(at(10, 6e6, 0));
    expect(t.feed(at(20, 1e6, 0))).toBeUndefined();
    expect(t.feed(at(20, 2e6, 0))).toBeUndefined();
    expect(t.feed(at(30, 11e6, 0))!.delta.user).toBe(0);
  });
});

describe("cpuidleScore", () => {
  const r = (user: number, du: number, sys = 0, ds = 0, usage = 0, dt = 0) => ({ pct: { user, sys, usage }, delta: { user: du, sys: ds, usage: dt } });

  test("each condition needs its percentage and its rise strictly over the thresholds", () => {
    expect(cpuidleScore(r(80, 48), T)).toBe(5 + 3);
    expect(cpuidleScore(r(75, 48), T)).toBeUndefined();
    expect(cpuidleScore(r(80, 45), T)).toBeUndefined();
    expect(cpuidleScore(r(0, 0, 50, 25), T)).toBe(10);
    expect(cpuidleScore(r(0, 0, 0, 0, 92, 53), T)).toBeUndefined();
  });

  test("the best satisfied condition scores", () => {
    expect(cpuidleScore(r(80, 50, 60, 30, 95, 60), T)).toBe(Math.max(5 + 5, 15 + 10, 5 + 5));
  });
});

test("pickCandidate: highest score, ties to the smallest id", () => {
  expect(pickCandidate([{ id: "b", score: 3 }, { id: "a", score: 9 }, { id: "c", score: 9 }])?.id).toBe("a");
  expect(pickCandidate([])).toBeUndefined();
});

describe("passesContainerFilter", () => {
  const c = { namespace: "application-web", hostname: "web-0", qos: "besteffort" } as Container;
  const rule = (Field: "container_host_namespace" | "container_hostname" | "container_qos", Pattern: string) => ({ Field, Pattern });

  test("no rules: every container", () => expect(passesContainerFilter(c, [], [])).toBe(true));
  test("included rules all must match", () => {
    expect(passesContainerFilter(c, [rule("container_host_namespace", "^application-")], [])).toBe(true);
    expect(passesContainerFilter(c, [rule("container_host_namespace", "^application-"), rule("container_hostname", "^db")], [])).toBe(false);
  });
  test("excluded only when every excluded rule matches", () => {
    expect(passesContainerFilter(c, [], [rule("container_qos", "besteffort")])).toBe(false);
    expect(passesContainerFilter(c, [], [rule("container_qos", "besteffort"), rule("container_hostname", "^db")])).toBe(true);
  });
});
