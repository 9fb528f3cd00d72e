// oom and memory_reclaim_events from the built binary on the real kernel: an OOM kill inside a v1 memory cgroup with a
// 32 MiB limit, and a writer squeezed by a 16 MiB limit into memory-cgroup reclaim past a 1 ms BlockedThreshold.
// Each must reach local storage, the watch stream (curl -N with a tracer_name filter) and its counters.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, type Subprocess } from "bun";
import { BINARY, scrape, workDir } from "./support/daemon";
import { EventNode, isRoot, metricUntil, metricValue, storedDocs, until } from "./support/events_sys_support";

const MiB = 1 << 20;
const env = new EventNode(workDir("huatuo-events-mem-"));
let oomWatch: Awaited<ReturnType<EventNode["watch"]>>;
let reclaimWatch: Awaited<ReturnType<EventNode["watch"]>>;
let tail: { proc: Subprocess<"ignore", "pipe", "ignore">; out: string };

beforeAll(async () => {
  if (!isRoot) return;
  env.addContainers(["oomer", "squeezed"]);
  env.memoryFile("oomer", "memory.limit_in_bytes", String(32 * MiB));
  env.memoryFile("squeezed", "memory.limit_in_bytes", String(16 * MiB));
  await env.start("[EventTracing.MemoryReclaim]\nBlockedThreshold = 1000000\n");
  oomWatch = await env.watch({ tracer_name: "^oom$" });
  reclaimWatch = await env.watch({ tracer_name: "^memory_reclaim_events$" });
  // `huatuo-bamai events tail` as a person would run it, filtered to OOM kills
  const args = [BINARY, "events", "tail", "--server", env.daemon!.url(""), "--tracer", "^oom$"];
  const proc = await env.connected(() => spawn(args, { stdout: "pipe", stderr: "ignore", stdin: "ignore" }));
  tail = { proc, out: "" };
  void (async () => {
    for await (const chunk of proc.stdout) tail.out += new TextDecoder().decode(chunk);
  })();
}, 60_000);

afterAll(async () => {
  tail?.proc.kill("SIGINT");
  oomWatch?.proc.kill();
  reclaimWatch?.proc.kill();
  await env.cleanup();
}, 60_000);

describe.skipIf(!isRoot)("oom and memory_reclaim_events on the real kernel", () => {
  test("an OOM kill in a 32 MiB memory cgroup: victim, trigger, containers, memcg, snapshot", async () => {
    const oomer = env.containers.get("oomer")!;
    env.runIn("oomer", "exec stress-ng --vm 1 --vm-bytes 256M --vm-keep --oomable -t 30s");
    const doc = await until(() => storedDocs(env.localDir, "oom").find((d) => d.container_id === oomer.id), 30_000, "oom document");
    expect(doc).toMatchObject({ tracer_name: "oom", tracer_type: "event", container_hostname: "oomer-0", container_host_namespace: "events" });
    const data = doc.tracer_data;
    expect(data.victim_process_name).toStartWith("stress-ng");
    expect(data).toMatchObject({ victim_container_id: oomer.id, victim_container_hostname: "oomer-0", victim_memcg: `/${oomer.path}` });
    expect(data.victim_memcg_css).toMatch(/^0x[0-9a-f]{16}$/);
    expect(data.trigger_container_id).toBe(oomer.id);
    expect(data.trigger_memcg).toBe(`/${oomer.path}`);
    expect(data.victim_pid).toBeGreaterThan(0);
    expect(data.victim_anon_rss_kb).toBeGreaterThan(1024);
    expect(data.victim_oom_score_adj).toBe(1000); // stress-ng makes its workers the first to go
    const memcg = data.memory_snapshot.victim_memcg;
    expect(memcg.path).toBe(`/${oomer.path}`);
    expect(memcg.limit_bytes).toBe(32 * MiB);
    // read in the kernel at the kill: the cgroup was at its limit (the files read afterwards show it emptied)
    expect(memcg.at_kill.limit_bytes).toBe(32 * MiB);
    expect(memcg.at_kill.usage_bytes).toBeGreaterThan(28 * MiB);
    expect(memcg.events.oom_kill).toBeGreaterThanOrEqual(1);
    expect(memcg.stat).toHaveProperty("total_rss");
    expect(data.memory_snapshot.host_meminfo.MemTotal).toBeGreaterThan(0);

    const streamed = await until(() => oomWatch.events().find((e) => e.data.tracer_id === doc.tracer_id), 10_000, "oom on the watch stream");
    expect(streamed.data).toMatchObject({ tracer_name: "oom", container_id: oomer.id });
    expect(oomWatch.events().every((e) => e.data.tracer_name === "oom")).toBe(true);
    await until(() => tail.out.includes(`victim=${data.victim_process_name}(${data.victim_pid})`), 10_000, "the OOM kill in events tail");

    const labels = { container_name: "oomer", container_host: "oomer-0", latest_victim_comm: data.victim_process_name };
    expect(await metricUntil(env.daemon!, "huatuo_bamai_oom_container_total", labels, 1)).toBeGreaterThanOrEqual(1);
    expect(metricValue(await scrape(env.daemon!), "huatuo_bamai_oom_host_total")).toBeDefined();
  }, 60_000);

  test("direct reclaim in a 16 MiB memory cgroup past a 1 ms threshold, attributed to the container", async () => {
    const squeezed = env.containers.get("squeezed")!;
    env.runIn("squeezed", `while :; do dd if=/dev/zero of=${env.workDir}/squeeze bs=1M count=128 2>/dev/null; done`);
    const doc = await until(() => storedDocs(env.localDir, "memory_reclaim_events").find((d) => d.container_id === squeezed.id), 30_000, "memory_reclaim_events document");
    expect(doc).toMatchObject({ tracer_name: "memory_reclaim_events", container_hostname: "squeezed-0" });
    const data = doc.tracer_data;
    expect(data.comm).toBe("dd");
    expect(data.deltatime).toBeGreaterThan(1_000_000);
    expect(data).toMatchObject({ reclaim_scope: "memcg", memcg: `/${squeezed.path}` });
    expect(data.pid).toBeGreaterThan(0);
    expect(storedDocs(env.localDir, "memory_reclaim_events").every((d) => d.container_id)).toBe(true);
    await until(() => reclaimWatch.events().find((e) => e.data.tracer_id === doc.tracer_id), 10_000, "reclaim on the watch stream");
    const status = (await (await fetch(env.daemon!.url("/tracers"))).json()) as { data: Array<{ name: string; hook: string; events: number }> };
    const tracer = status.data.find((t) => t.name === "memory_reclaim_events")!;
    expect(tracer.hook).toContain("vmscan/mm_vmscan_memcg_reclaim_begin");
    expect(tracer.events).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
