// dload: the kernel's fixed-point load average, task-state counts, known issues, the stack text.
import { describe, expect, test } from "bun:test";
import { calcLoad, classifyIssue, countTaskStates, EXP_1, EXP_5, FIXED_1, formatBlocked, inIoWait, LoadTracker, loadValue } from "./dload_core";

describe("fixed-point load average", () => {
  test("one sample with one runnable task: (164, 34), shown as 0.08 and 0.02", () => {
    expect(calcLoad(0, EXP_1, FIXED_1)).toBe(164);
    expect(calcLoad(0, EXP_5, FIXED_1)).toBe(34);
    expect(loadValue(164)).toBe(0.08);
    expect(loadValue(34)).toBe(0.02);
    const t = new LoadTracker();
    t.feed(1, 0);
    expect(t.runnable).toEqual([164, 34]);
    expect([t.loadAvg, t.dloadAvg]).toEqual([0.08, 0]);
  });

  test("a steady count converges to it", () => {
    const t = new LoadTracker();
    for (let i = 0; i < 200; i++) t.feed(2, 8);
    expect(t.dloadAvg).toBeCloseTo(8, 1);
    expect(t.loadAvg).toBeCloseTo(10, 1);
  });

  test("20 D tasks pass a threshold of 1 after one sample (20 × 0.08)", () => {
    const t = new LoadTracker();
    t.feed(0, 20);
    expect(t.dload[0]).toBe(3280);
    expect(t.dloadAvg).toBe(1.6);
  });
});

test("task states count like cgroupstats; idle kernel threads are none of them", () => {
  expect(countTaskStates(["R", "S", "S", "D", "T", "t", "I", "Z"])).toEqual({ nrRunning: 1, nrSleeping: 2, nrUninterruptible: 1, nrStopped: 2 });
});

test("known issues: the first matching regex names the stack, else empty", () => {
  const issues: Array<[string, string]> = [["frozen_fs", "percpu_rwsem_wait|__sb_start_write"], ["nfs", "nfs_"]];
  expect(classifyIssue(issues, "task:dd\n percpu_rwsem_wait+0x1/0x2")).toBe("frozen_fs");
  expect(classifyIssue(issues, "io_schedule")).toBe("");
});

test("stack text: one block per task; io_schedule marks I/O wait", () => {
  const t = { tid: 7, tgid: 5, comm: "dd", frames: ["io_schedule+0x12/0x40", "folio_wait_bit+0x1/0x2"] };
  expect(formatBlocked("cgroup", [t])).toBe("stacktrace of D task in cgroup:\ntask:dd state:D pid:7 tgid:5\n io_schedule+0x12/0x40\n folio_wait_bit+0x1/0x2\n");
  expect(inIoWait(t)).toBe(true);
  expect(inIoWait({ ...t, frames: ["percpu_rwsem_wait+0x1/0x2"] })).toBe(false);
});
