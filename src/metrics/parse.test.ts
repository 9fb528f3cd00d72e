import { describe, expect, test } from "bun:test";
import { countCpuList, parseFlatKeyed, parseProcStatCpu } from "./parse";

describe("parseFlatKeyed", () => {
  test("reads key value lines and skips blank or malformed ones", () => {
    const text = "nr_free_pages 2345270\nnr_dirty 1721\n\ngarbage\nbad value\nthree 1 2\nnegative -4\n";
    expect([...parseFlatKeyed(text)]).toEqual([
      ["nr_free_pages", 2345270],
      ["nr_dirty", 1721],
      ["negative", -4],
    ]);
  });
});

describe("countCpuList", () => {
  test("counts ranges and single CPUs", () => {
    expect(countCpuList("0-3\n")).toBe(4);
    expect(countCpuList("0-3,8,10-11")).toBe(7);
    expect(countCpuList("0")).toBe(1);
    expect(countCpuList("\n")).toBe(0);
  });

  test("rejects malformed lists", () => {
    expect(() => countCpuList("3-1")).toThrow("invalid cpulist");
    expect(() => countCpuList("a-b")).toThrow("invalid cpulist");
    expect(() => countCpuList("-3")).toThrow("invalid cpulist");
  });
});

describe("parseProcStatCpu", () => {
  test("reads the aggregate line, not the per-CPU ones", () => {
    const text = "cpu  100 2 30 4000 5 6 7 8 9 10\ncpu0 50 1 15 2000 2 3 3 4 4 5\nintr 1 2 3\n";
    expect(parseProcStatCpu(text)).toEqual({
      user: 100, nice: 2, system: 30, idle: 4000, iowait: 5, irq: 6, softirq: 7, steal: 8,
    });
  });

  test("accepts the eight-column layout of old kernels", () => {
    expect(parseProcStatCpu("cpu 1 2 3 4 5 6 7 8\n").steal).toBe(8);
  });

  test("throws without a usable aggregate line", () => {
    expect(() => parseProcStatCpu("cpu0 1 2 3 4 5 6 7 8\n")).toThrow("malformed aggregate cpu line");
    expect(() => parseProcStatCpu("cpu 1 2 3\n")).toThrow("malformed");
  });
});
