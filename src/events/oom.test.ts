// OOM handling without a kernel OOM: recorded mark_victim events against a memory hierarchy in a temp dir, the memcg
// resolver (ids, /proc/<pid>/cgroup, container prefixes), the memory snapshot and the host/container counters.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { OomEvent } from "../bpf/gen/oom";
import { FamilySet } from "../framework/families";
import { testContainer } from "../metrics/testing";
import type { CgroupLayout } from "../pod/cgroup";
import { memoryPathFromProcCgroup, MemcgResolver } from "./memcg";
import { OomHandler, pageSize } from "./oom";
import { parseFlatKeyed, parseMeminfoBytes } from "./oom_snapshot";
import { CaptureSink } from "./testing";

const root = mkdtempSync(join(tmpdir(), "huatuo-memcg-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const container = testContainer();
const layout: CgroupLayout = { mode: "legacy", v1: new Map([["memory", root]]) };
const containerDir = join(root, container.cgroupPath);
const hostDir = join(root, "system.slice/cron.service");
mkdirSync(join(containerDir, "nested"), { recursive: true });
mkdirSync(hostDir, { recursive: true });
writeFileSync(join(containerDir, "memory.usage_in_bytes"), "33550336\n");
writeFileSync(join(containerDir, "memory.limit_in_bytes"), "33554432\n");
writeFileSync(join(containerDir, "memory.max_usage_in_bytes"), "33554432\n");
writeFileSync(join(containerDir, "memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
writeFileSync(join(containerDir, "memory.stat"), "cache 0\nrss 33439744\ntotal_rss 33439744\n");
const ino = (dir: string) => statSync(dir, { bigint: true }).ino;

function resolver(): MemcgResolver {
  return new MemcgResolver({ list: () => [container] }, layout);
}

describe("memory cgroup resolution", () => {
  test("kernfs ids of container, nested and host cgroups; the root", () => {
    const m = resolver();
    expect(m.pathOfId(ino(containerDir))).toBe(container.cgroupPath);
    expect(m.pathOfId(ino(join(containerDir, "nested")))).toBe(`${container.cgroupPath}/nested`);
    expect(m.pathOfId(ino(hostDir))).toBe("system.slice/cron.service");
    expect(m.pathOfId(ino(root))).toBe("");
    expect(m.pathOfId(0n)).toBeUndefined();
    expect(m.pathOfId(1n)).toBeUndefined();
  });

  test("a path belongs to the container whose cgroup holds it", () => {
    const m = resolver();
    expect(m.containerOf(`${container.cgroupPath}/nested`)?.id).toBe(container.id);
    expect(m.containerOf(container.cgroupPath)?.id).toBe(container.id);
    expect(m.containerOf(`${container.cgroupPath}x`)).toBeUndefined();
    expect(m.containerOf("system.slice/cron.service")).toBeUndefined();
    expect(m.containerOf(undefined)).toBeUndefined();
  });

  test("/proc/<pid>/cgroup: the memory line on v1, the unified line on v2", () => {
    const text = "12:pids:/a\n4:memory:/kubepods/pod1/c1\n1:name=systemd:/x\n0::/user.slice\n";
    expect(memoryPathFromProcCgroup(text, 1)).toBe("kubepods/pod1/c1");
    expect(memoryPathFromProcCgroup(text, 2)).toBe("user.slice");
    expect(memoryPathFromProcCgroup("5:cpu,cpuacct:/\n", 1)).toBeUndefined();
    expect(memoryPathFromProcCgroup("0::/\n", 2)).toBe("");
  });
});

function event(overrides: Partial<OomEvent> = {}): OomEvent {
  return {
    victim_memcg_id: ino(containerDir), victim_memcg_css: 0xff4b8d8be3818000n, trigger_memcg_id: ino(hostDir),
    trigger_memcg_css: 0xff4b8d8be3810000n, total_vm_kb: 140000, anon_rss_kb: 32000, file_rss_kb: 1200, shmem_rss_kb: 0,
    pgtables_kb: 120, memcg_usage_pages: 8191, memcg_limit_pages: 8192, flags: 7, victim_pid: 3218745, victim_tgid: 3218745, victim_uid: 0, trigger_pid: 3218805,
    trigger_tgid: 3218804, oom_score_adj: 1000, victim_comm: "java", trigger_comm: "cron", ...overrides,
  };
}

describe("OOM events", () => {
  test("victim and trigger, their cgroups and containers, the snapshot", async () => {
    const sink = new CaptureSink();
    await new OomHandler(resolver(), sink).handle(event());
    const [input] = sink.inputs;
    expect(input!.tracerName).toBe("oom");
    expect(input!.container?.id).toBe(container.id);
    const data = input!.data as Record<string, any>;
    expect(data).toMatchObject({
      victim_process_name: "java", victim_pid: 3218745, victim_container_id: container.id,
      victim_container_hostname: container.hostname, victim_memcg_css: "0xff4b8d8be3818000", victim_memcg: `/${container.cgroupPath}`,
      trigger_process_name: "cron", trigger_pid: 3218804, trigger_tid: 3218805, trigger_container_id: "", trigger_container_hostname: "",
      trigger_memcg_css: "0xff4b8d8be3810000", trigger_memcg: "/system.slice/cron.service",
      victim_uid: 0, victim_oom_score_adj: 1000, victim_anon_rss_kb: 32000, victim_total_vm_kb: 140000,
    });
    expect(data.memory_snapshot.victim_memcg).toEqual({
      path: `/${container.cgroupPath}`, at_kill: { usage_bytes: 8191 * 4096, limit_bytes: 33554432 }, usage_bytes: 33550336, limit_bytes: 33554432, peak_bytes: 33554432,
      events: { oom_kill_disable: 0, under_oom: 0, oom_kill: 1 }, stat: { cache: 0, rss: 33439744, total_rss: 33439744 },
    });
    expect(data.memory_snapshot.trigger_memcg).toEqual({ path: "/system.slice/cron.service" });
    expect(data.memory_snapshot.host_meminfo.MemTotal).toBeGreaterThan(0);
  });

  test("the classic tracepoint's record: victim cgroup from /proc, no memory figures without them", async () => {
    const sink = new CaptureSink();
    await new OomHandler(resolver(), sink).handle(event({ flags: 0, victim_pid: process.pid, victim_tgid: 0, victim_memcg_css: 0n }));
    const data = sink.data[0]!;
    expect(data.victim_pid).toBe(process.pid);
    expect(data.victim_memcg_css).toBe("");
    expect(data).not.toHaveProperty("victim_anon_rss_kb");
    expect(sink.inputs[0]!.container).toBeUndefined();
  });

  test("counters: host kills, and per container with the latest victim's comm", async () => {
    const sink = new CaptureSink();
    const handler = new OomHandler(resolver(), sink);
    await handler.handle(event());
    await handler.handle(event({ victim_comm: "stress-ng-vm" }));
    await handler.handle(event({ victim_memcg_id: ino(hostDir) }));
    const set = new FamilySet({ host: "h", region: "r" });
    handler.collect(set.emitterFor("oom"));
    const family = (name: string) => set.all().find((f) => f.name === name)!.samples;
    expect(family("huatuo_bamai_oom_host_total").map((s) => s.value)).toEqual([1]);
    const [c] = family("huatuo_bamai_oom_container_total");
    expect(c!.value).toBe(2);
    expect(c!.labels).toMatchObject({ latest_victim_comm: "stress-ng-vm", container_name: container.name, container_host: container.hostname });
  });
});

describe("memory snapshot parsing", () => {
  test("meminfo in bytes, only the kept keys", () => {
    expect(parseMeminfoBytes("MemTotal:       24684364 kB\nHugePages_Total:       0\nActive(anon):     1024 kB\n")).toEqual({
      MemTotal: 24684364 * 1024, "Active(anon)": 1024 * 1024,
    });
  });

  test("flat keyed files, exact beyond 2^53", () => {
    expect(parseFlatKeyed("low 0\nhigh 12\nmax 3\noom 1\noom_kill 1\n")).toEqual({ low: 0, high: 12, max: 3, oom: 1, oom_kill: 1 });
    expect(parseFlatKeyed("hierarchical_memsw_limit 9223372036854771712\n")).toEqual({ hierarchical_memsw_limit: 9223372036854771712n });
  });

  test("the page size from the auxiliary vector", () => {
    const auxv = new Uint8Array(48);
    const view = new DataView(auxv.buffer);
    view.setBigUint64(0, 33n, true);
    view.setBigUint64(16, 6n, true);
    view.setBigUint64(24, 65536n, true);
    expect(pageSize(auxv)).toBe(65536);
    expect([4096, 16384, 65536]).toContain(pageSize());
  });
});
