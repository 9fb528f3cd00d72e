import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { setRootPrefix } from "../procfs/root";
import { CpuStatCollector, parseCpuStat, waitSumPercent } from "./cpu_stat";
import {
  FIXTURES,
  removeTempRoots,
  scrape,
  stubContext,
  tempRoot,
  TEST_CONTAINER_LABELS,
  testContainer,
  valueOf,
  writeFiles,
} from "./testing";

afterEach(() => setRootPrefix(""));
afterAll(removeTempRoots);

const coredns = testContainer();
const labels = TEST_CONTAINER_LABELS;

describe("parseCpuStat", () => {
  test("cgroup v2 reports microseconds", () => {
    const text =
      "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 40\n" +
      "nr_throttled 3\nthrottled_usec 250\nnr_bursts 2\nburst_usec 7\n";
    expect(parseCpuStat(text)).toEqual({
      nrThrottled: 3,
      throttledTimeNs: 250_000,
      nrBursts: 2,
      burstTimeNs: 7_000,
      waitSumNs: undefined,
      usageNs: 1_500_000,
    });
  });

  test("cgroup v1 reports nanoseconds and, with schedstats, wait_sum", () => {
    const text = "nr_periods 40\nnr_throttled 3\nthrottled_time 250\nwait_sum 99\n";
    expect(parseCpuStat(text)).toEqual({
      nrThrottled: 3,
      throttledTimeNs: 250,
      nrBursts: undefined,
      burstTimeNs: undefined,
      waitSumNs: 99,
      usageNs: undefined,
    });
  });
});

describe("waitSumPercent", () => {
  const at = (waitNs: number, usageNs: number) => ({ waitNs, usageNs, atUs: 0 });

  test("share of runnable time spent waiting", () => {
    expect(waitSumPercent(at(100, 100), at(200, 400))).toBe(25);
    expect(waitSumPercent(at(100, 100), at(100, 100))).toBe(0);
  });

  test("undefined when a counter went back", () => {
    expect(waitSumPercent(at(100, 100), at(50, 400))).toBeUndefined();
  });
});

describe("cpu_stat collector", () => {
  test("emits nothing without containers", async () => {
    setRootPrefix(FIXTURES);
    expect(await scrape("cpu_stat")).toEqual([]);
  });

  test("emits throttling and burst series per container (cgroup v2 fixtures)", async () => {
    setRootPrefix(FIXTURES);
    const containers = [coredns, testContainer({ id: "d", name: "ds", type: "daemonSet" })];
    const families = await scrape("cpu_stat", { containers });
    expect(families.map((f) => [f.name, f.type, f.samples.length])).toEqual([
      ["huatuo_bamai_cpu_stat_container_nr_throttled", "gauge", 1],
      ["huatuo_bamai_cpu_stat_container_throttled_time", "gauge", 1],
      ["huatuo_bamai_cpu_stat_container_nr_bursts", "gauge", 1],
      ["huatuo_bamai_cpu_stat_container_burst_time", "gauge", 1],
    ]);
    expect(valueOf(families, "huatuo_bamai_cpu_stat_container_nr_throttled", labels)).toBe(1821);
    expect(valueOf(families, "huatuo_bamai_cpu_stat_container_throttled_time", labels)).toBe(90_312_448_000);
  });

  test("wait_sum_percent on cgroup v1 needs two samples a second apart", async () => {
    const cpu = `sys/fs/cgroup/cpu,cpuacct/${coredns.cgroupPath}`;
    const root = tempRoot({
      [`${cpu}/cpu.stat`]: "nr_periods 10\nnr_throttled 1\nthrottled_time 5000\nwait_sum 1000\n",
      [`${cpu}/cpuacct.usage`]: "3000\n",
    });
    setRootPrefix(root);
    let now = 0;
    const collector = new CpuStatCollector(stubContext({ containers: [coredns] }), () => now);
    const wait = async () =>
      valueOf(await scrape("cpu_stat", collector), "huatuo_bamai_cpu_stat_container_wait_sum_percent", labels);

    expect(await wait()).toBeUndefined();
    writeFiles(root, { [`${cpu}/cpu.stat`]: "wait_sum 2000\n", [`${cpu}/cpuacct.usage`]: "6000\n" });
    now = 500_000;
    expect(await wait()).toBeUndefined();
    now = 1_000_000;
    expect(await wait()).toBe(25);
  });
});
