// The agent's own limits on the real kernel: --enable-cgroup creates huatuo-bamai in the cpu and memory hierarchies
// (v1 on this hybrid host), moves every thread in, raises the CPU quota once started, and removes it on exit.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmdirSync } from "node:fs";
import { Logger } from "../src/log";
import { RuntimeCgroup } from "../src/daemon/runtime_cgroup";
import { startDaemon } from "./support/daemon";

const CPU = "/sys/fs/cgroup/cpu/huatuo-bamai";
const MEM = "/sys/fs/cgroup/memory/huatuo-bamai";
const read = (path: string) => readFileSync(path, "utf8").trim();
const limits = (init: number, cpu: number, mem: number) =>
  `[RuntimeCgroup]\nLimitInitCPU = ${init}\nLimitCPU = ${cpu}\nLimitMem = ${mem}\n`;

afterAll(() => {
  // Only if a failed assertion left them behind (a passing run has already removed them).
  for (const dir of [CPU, MEM, "/sys/fs/cgroup/unified/huatuo-bamai"]) if (existsSync(dir)) rmdirSync(dir);
});

describe("runtime cgroup (--enable-cgroup)", () => {
  test("limits written, all threads inside, CPU raised after start, removed after SIGTERM", async () => {
    const d = await startDaemon({ args: ["--enable-cgroup"], config: limits(0.5, 1.5, 512) });
    const pid = d.proc.pid;
    expect(read(`${CPU}/cpu.cfs_period_us`)).toBe("100000");
    expect(read(`${CPU}/cpu.cfs_quota_us`)).toBe("150000");
    expect(read(`${MEM}/memory.limit_in_bytes`)).toBe(String(512 * 1024 * 1024));
    for (const dir of [CPU, MEM]) {
      expect(read(`${dir}/cgroup.procs`).split("\n")).toEqual([String(pid)]);
      const tasks = read(`${dir}/tasks`).split("\n").sort();
      expect(tasks).toEqual(readdirSync(`/proc/${pid}/task`).sort());
    }
    const cgroupLines = read(`/proc/${pid}/cgroup`);
    expect(cgroupLines).toMatch(/:cpu:\/huatuo-bamai$/m);
    expect(cgroupLines).toMatch(/:memory:\/huatuo-bamai$/m);
    expect(await d.stop()).toBe(0);
    expect(existsSync(CPU)).toBe(false);
    expect(existsSync(MEM)).toBe(false);
    const out = await d.output();
    expect(out).toMatch(/msg="runtime cgroup applied" .*cpu_cores=0.5 memory_mb=512/);
    expect(out).toMatch(/msg="runtime cgroup cpu limit raised" cpu_cores=1.5/);
    // Applied before the HTTP server started, raised after it.
    expect(out.indexOf("runtime cgroup applied")).toBeLessThan(out.indexOf("http server listening"));
    expect(out.indexOf("http server listening")).toBeLessThan(out.indexOf("cpu limit raised"));
  });

  test("a limit the kernel refuses fails startup with one line naming the file and errno, and cleans up", async () => {
    // ~1e9 cores is beyond the kernel's maximum CFS quota: EINVAL.
    const d = await startDaemon({ args: ["--enable-cgroup"], config: limits(1e9, 2, 512), waitReady: false });
    expect(await d.proc.exited).toBe(1);
    const out = await d.output();
    expect(out).toMatch(/startup failed" err="write \/sys\/fs\/cgroup\/cpu\/huatuo-bamai\/cpu.cfs_quota_us: EINVAL \(invalid argument\)"/);
    expect(existsSync(CPU)).toBe(false);
    expect(existsSync(MEM)).toBe(false);
  });

  test("without the flag nothing is created", async () => {
    const d = await startDaemon({ config: limits(0.5, 2, 512) });
    expect(existsSync(CPU)).toBe(false);
    await d.stop();
    expect(await d.output()).toContain("runtime cgroup limits off");
  });

  test("v2 path: a unified tree without the cpu controller fails on cpu.max and removes the directory", () => {
    // This host's cgroup2 mount has no cpu controller (it is bound to v1), so the v2 limit write must fail cleanly.
    const layout = { mode: "unified" as const, v1: new Map<string, string>(), unified: "/sys/fs/cgroup/unified" };
    const cfg = { LimitInitCPU: 0.5, LimitCPU: 2, LimitMem: 512 };
    expect(() => RuntimeCgroup.create(cfg, new Logger("test"), layout)).toThrow(
      /^write \/sys\/fs\/cgroup\/unified\/huatuo-bamai\/cpu.max: (ENOENT|EACCES)/,
    );
    expect(existsSync("/sys/fs/cgroup/unified/huatuo-bamai")).toBe(false);
    expect(read("/proc/self/cgroup")).not.toContain("huatuo-bamai");
  });
});
