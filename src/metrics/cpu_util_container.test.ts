// Container CPU parsing and capacity: v1 cpuacct, v2 cpu.stat, quota/cpuset cores, per-container sampling.
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { CgroupFs } from "../pod/cgroup_reader";
import { cachedLimits, containerCores, ContainerCpuUtil, parseCpuacct, parseCpuStatV2, quotaCores } from "./cpu_util_container";
import { removeTempRoots, tempRoot, testContainer, writeFiles } from "./testing";

afterAll(removeTempRoots);

describe("container cpu parsing", () => {
  test("v1 cpuacct.stat ticks and cpuacct.usage ns", () => {
    expect(parseCpuacct("user 150\nsystem 50\n", "2500000000\n")).toEqual({ usrUs: 1_500_000, sysUs: 500_000, totalUs: 2_500_000 });
  });

  test("v2 cpu.stat; a file without usage_usec is not a cpu.stat", () => {
    expect(parseCpuStatV2("usage_usec 900\nuser_usec 600\nsystem_usec 300\nnr_periods 0\n")).toEqual({ usrUs: 600, sysUs: 300, totalUs: 900 });
    expect(parseCpuStatV2("nr_periods 1\n")).toBeUndefined();
  });

  test("quota in cores: v1 -1 and v2 max mean unlimited", () => {
    expect(quotaCores("150000", "100000")).toBe(1.5);
    expect(quotaCores("-1", "100000")).toBeUndefined();
    expect(quotaCores("max", "100000")).toBeUndefined();
    expect(quotaCores(undefined, undefined)).toBeUndefined();
  });

  test("cores = min(quota, cpuset), never above the host", () => {
    expect(containerCores(1.5, 4, 8)).toBe(1.5);
    expect(containerCores(undefined, 4, 8)).toBe(4);
    expect(containerCores(undefined, undefined, 8)).toBe(8);
    expect(containerCores(16, 0, 8)).toBe(8);
  });
});

describe("ContainerCpuUtil", () => {
  test("first sample idle, then usage over cores × wall; refreshed at most once a second; forgets gone containers", () => {
    const util = new ContainerCpuUtil();
    const c = testContainer();
    const reading = (usr: number, sys: number, total: number) => ({ usage: { usrUs: usr, sysUs: sys, totalUs: total }, cores: 2 });
    expect(util.update(c, reading(0, 0, 0), 0).util.total).toBe(0);
    expect(util.update(c, reading(500_000, 0, 500_000), 500_000).util.total).toBe(0);
    const s = util.update(c, reading(600_000, 200_000, 1_000_000), 1_000_000);
    // The exact total is split by the sampled usr:sys ratio (600:200).
    expect(s.util).toEqual({ usr: 37.5, sys: 12.5, total: 50 });
    expect(s.cores).toBe(2);
    util.retain([]);
    expect(util.update(c, reading(900_000, 300_000, 1_500_000), 2_000_000).util.total).toBe(0);
  });
});

describe("cachedLimits", () => {
  test("read once, trusted for 30 to 90 s, then read again (a resize shows within that)", async () => {
    const c = testContainer();
    const root = tempRoot({ [`${c.cgroupPath}/cpu.max`]: "50000 100000\n", [`${c.cgroupPath}/cpuset.cpus.effective`]: "0-3\n" });
    const fs = new CgroupFs({ mode: "unified", v1: new Map(), unified: root });
    expect(await cachedLimits(fs, c, 2, 0)).toEqual({ quota: 0.5, cpus: 4 });
    writeFiles(root, { [join(c.cgroupPath, "cpu.max")]: "200000 100000\n" });
    expect(await cachedLimits(fs, c, 2, 29_000)).toEqual({ quota: 0.5, cpus: 4 });
    expect(await cachedLimits(fs, c, 2, 91_000)).toEqual({ quota: 2, cpus: 4 });
  });
});
