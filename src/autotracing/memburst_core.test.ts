// memburst: the sliding window's trigger, /proc/meminfo, and the RSS ranking.
import { describe, expect, test } from "bun:test";
import { AnonWindow, parseMeminfo, topByRss } from "./memburst_core";

const T = { deltaBurst: 100, anonPercent: 70 };
const TOTAL = 1000;

describe("AnonWindow", () => {
  test("nothing before the window is full, then the newest against the oldest", () => {
    const w = new AnonWindow(3);
    expect([100, 100, 100].map((kb) => w.feed(kb, TOTAL, T))).toEqual([false, false, false]);
    expect(w.feed(800, TOTAL, T)).toBe(true);
  });

  test("growth alone is not enough: anonymous memory must also be DeltaAnonThreshold% of RAM", () => {
    const w = new AnonWindow(2);
    w.feed(100, TOTAL, T);
    w.feed(100, TOTAL, T);
    expect(w.feed(600, TOTAL, T)).toBe(false);
    expect(w.feed(700, TOTAL, T)).toBe(true);
  });

  test("a slow climb within the window is no burst", () => {
    const w = new AnonWindow(2);
    for (const kb of [500, 600, 700, 800, 900]) expect(w.feed(kb, TOTAL, T)).toBe(false);
  });

  test("the window slides: a burst is measured against the sample `length` ago", () => {
    const w = new AnonWindow(2);
    for (const kb of [100, 400, 400]) w.feed(kb, TOTAL, T);
    expect(w.feed(750, TOTAL, T)).toBe(false);
  });
});

test("meminfo: MemTotal and Active(anon) + Inactive(anon)", () => {
  const text = "MemTotal:       24684000 kB\nMemFree: 1 kB\nActive(anon):     100000 kB\nInactive(anon):    2345 kB\n";
  expect(parseMeminfo(text)).toEqual({ memTotalKb: 24684000, anonKb: 102345 });
  expect(() => parseMeminfo("MemTotal: 1 kB\n")).toThrow("anon counters missing");
});

test("top by RSS, ties by pid", () => {
  const p = (pid: number, memory_size: number) => ({ pid, process_name: `p${pid}`, memory_size });
  expect(topByRss([p(3, 10), p(1, 50), p(2, 50), p(4, 1)], 3).map((x) => x.pid)).toEqual([1, 2, 3]);
});
