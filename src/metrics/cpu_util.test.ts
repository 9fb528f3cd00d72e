import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { setRootPrefix } from "../procfs/root";
import { CpuUtilCollector, cpuUtilBetween, hostCpuUsage } from "./cpu_util";
import { createCollector, FIXTURES, removeTempRoots, scrape, tempRoot, valueOf, writeFiles } from "./testing";

const times = { user: 100, nice: 20, system: 30, idle: 5000, iowait: 40, irq: 5, softirq: 15, steal: 9 };
const sample = (usrUs: number, sysUs: number, atUs: number) => ({ usage: { usrUs, sysUs }, atUs });

afterEach(() => setRootPrefix(""));
afterAll(removeTempRoots);

describe("hostCpuUsage", () => {
  test("splits like cgroup cpu.stat: usr = user+nice, sys = system+irq+softirq, in µs", () => {
    expect(hostCpuUsage(times)).toEqual({ usrUs: 120 * 10_000, sysUs: 50 * 10_000 });
  });
});

describe("cpuUtilBetween", () => {
  test("percent of all cores over the wall interval", () => {
    const util = cpuUtilBetween(sample(0, 0, 0), sample(2_000_000, 1_000_000, 1_000_000), 4);
    expect(util).toEqual({ usr: 50, sys: 25, total: 75 });
  });

  test("clamps an overshoot within one tick per CPU to 100", () => {
    const util = cpuUtilBetween(sample(0, 0, 0), sample(3_020_000, 1_000_000, 1_000_000), 4);
    expect(util?.total).toBe(100);
  });

  test("a container at its CFS quota reads 100% though a window holds one more period's quota", () => {
    // Half a core over 1.2 s measured, 50 ms quota per 100 ms period: one extra period plus a late timestamp.
    const util = cpuUtilBetween(sample(0, 0, 0), sample(600_000 + 50_000 + 20_000, 0, 1_200_000), 0.5);
    expect(util?.total).toBe(100);
  });

  test("rejects pairs that cannot be trusted", () => {
    expect(cpuUtilBetween(sample(10, 10, 0), sample(5, 20, 1_000_000), 4)).toBeUndefined();
    expect(cpuUtilBetween(sample(0, 0, 5), sample(1, 1, 5), 4)).toBeUndefined();
    expect(cpuUtilBetween(sample(0, 0, 0), sample(4_000_000, 1_000_000, 1_000_000), 4)).toBeUndefined();
    expect(cpuUtilBetween(sample(0, 0, 0), sample(1, 1, 1_000_000), 0)).toBeUndefined();
  });
});

describe("cpu_util collector", () => {
  const stat = (user: number, system: number) => `cpu  ${user} 0 ${system} 90000 10 0 0 0 0 0\n`;

  test("reads the fixtures; the first scrape reads idle", async () => {
    setRootPrefix(FIXTURES);
    const families = await scrape("cpu_util", await createCollector("cpu_util"));
    expect(families.map((f) => [f.name, f.type])).toEqual([
      ["huatuo_bamai_cpu_util_usr", "gauge"],
      ["huatuo_bamai_cpu_util_sys", "gauge"],
      ["huatuo_bamai_cpu_util_total", "gauge"],
    ]);
    expect(families.every((f) => f.samples.length === 1 && f.samples[0]!.value === 0)).toBe(true);
    expect(families[0]!.samples[0]!.labels).toEqual({ host: "huatuo-dev", region: "dev" });
  });

  test("computes between samples, refreshes at most once a second, resets when counters go back", async () => {
    const root = tempRoot({ "proc/stat": stat(1000, 500), "sys/devices/system/cpu/online": "0-3\n" });
    setRootPrefix(root);
    let now = 0;
    const collector = new CpuUtilCollector(() => now);
    await scrape("cpu_util", collector);

    writeFiles(root, { "proc/stat": stat(1200, 600) });
    now = 1_000_000;
    let families = await scrape("cpu_util", collector);
    expect(valueOf(families, "huatuo_bamai_cpu_util_usr")).toBe(50);
    expect(valueOf(families, "huatuo_bamai_cpu_util_sys")).toBe(25);
    expect(valueOf(families, "huatuo_bamai_cpu_util_total")).toBe(75);

    writeFiles(root, { "proc/stat": stat(1600, 600) });
    now = 1_500_000;
    families = await scrape("cpu_util", collector);
    expect(valueOf(families, "huatuo_bamai_cpu_util_usr")).toBe(50);

    writeFiles(root, { "proc/stat": stat(10, 10) });
    now = 3_000_000;
    families = await scrape("cpu_util", collector);
    expect(valueOf(families, "huatuo_bamai_cpu_util_total")).toBe(0);
  });

  test("a missing source fails the scrape", async () => {
    setRootPrefix(tempRoot({ "proc/stat": stat(1, 1) }));
    await expect(scrape("cpu_util", new CpuUtilCollector(() => 0))).rejects.toThrow();
  });
});
