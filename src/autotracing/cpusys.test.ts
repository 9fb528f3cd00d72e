// cpusys: the state machine over /proc/stat samples, and the trigger rule.
import { describe, expect, test } from "bun:test";
import type { CpuTimes } from "../metrics/parse";
import { CpusysDetector, cpusysTriggered } from "./cpusys";

/** A cumulative sample: `sys` and `idle` ticks, the other columns fixed. */
const sample = (system: number, idle: number): CpuTimes => ({ user: 100, nice: 0, system, idle, iowait: 0, irq: 0, softirq: 0, steal: 0 });

describe("CpusysDetector", () => {
  test("the first sample is a baseline; the first percentage has no rise", () => {
    const d = new CpusysDetector();
    expect(d.feed(sample(0, 0))).toBeUndefined();
    expect(d.feed(sample(60, 40))).toEqual({ nowSys: 60, deltaSys: 0 });
    expect(d.feed(sample(70, 130))).toEqual({ nowSys: 10, deltaSys: -50 });
    expect(d.feed(sample(150, 150))).toEqual({ nowSys: 80, deltaSys: 70 });
  });

  test("percentages are truncated like the original's integer division", () => {
    const d = new CpusysDetector();
    d.feed(sample(0, 0));
    expect(d.feed(sample(2, 1))!.nowSys).toBe(66);
  });

  test("counters going back, or system above total, restart from a new baseline", () => {
    const d = new CpusysDetector();
    d.feed(sample(100, 100));
    d.feed(sample(110, 190));
    expect(d.feed(sample(50, 50))).toBeUndefined();
    expect(d.feed(sample(100, 100))).toEqual({ nowSys: 50, deltaSys: 0 });
    const odd = { ...sample(200, 100), idle: 0, user: 0 };
    expect(d.feed(odd)).toBeUndefined();
  });

  test("no time passed: no reading", () => {
    const d = new CpusysDetector();
    d.feed(sample(5, 5));
    expect(d.feed(sample(5, 5))).toBeUndefined();
  });
});

test("a trigger needs both sys% and its rise strictly over their thresholds", () => {
  const t = { sys: 45, deltaSys: 20 };
  expect(cpusysTriggered({ nowSys: 52, deltaSys: 25 }, t)).toBe(true);
  expect(cpusysTriggered({ nowSys: 45, deltaSys: 25 }, t)).toBe(false);
  expect(cpusysTriggered({ nowSys: 90, deltaSys: 20 }, t)).toBe(false);
  expect(cpusysTriggered({ nowSys: 90, deltaSys: 0 }, t)).toBe(false);
});
