// The eBPF host metrics from the built binary on the live kernel: /tracers explains each tracer, softirq counts move
// with loopback traffic, iolatency with direct I/O on a loop device, memory_free is exported in nanoseconds.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { isRoot, rootOnly } from "./support/bpf_helpers";
import { attachLoop, matching, sh, sumOf } from "./support/bpf_metrics_support";
import { scrape, startDaemon, workDir, type DaemonHandle } from "./support/daemon";

const BPF_METRICS = ["runqlat", "softirq", "memory_free", "memory_reclaim", "iolatency"];

/** UDP datagrams over loopback: each one is received through the NET_RX softirq. */
async function loopbackBurst(count: number): Promise<void> {
  let received = 0;
  const server = await Bun.udpSocket({ hostname: "127.0.0.1", socket: { data: () => void received++ } });
  const client = await Bun.udpSocket({});
  for (let i = 0; i < count; i++) client.send("x".repeat(64), server.port, "127.0.0.1");
  for (let i = 0; i < 100 && received < count * 0.9; i++) await Bun.sleep(10);
  client.close();
  server.close();
}

describe.skipIf(!isRoot)(rootOnly("eBPF host metrics from the binary"), () => {
  let d: DaemonHandle;
  beforeAll(async () => {
    d = await startDaemon({ procfsPrefix: null });
  });
  afterAll(() => d?.stop());

  test("/tracers: each runs on its BTF tracepoints; iolatency runs without queue freezes and says why", async () => {
    const { data } = (await (await fetch(d.url("/tracers"))).json()) as { data: Array<Record<string, unknown>> };
    const byName = new Map(data.map((s) => [s.name, s]));
    for (const name of BPF_METRICS) {
      const s = byName.get(name)!;
      expect(Object.keys(s).sort()).toEqual(["events", "hook", "kind", "name", "reason", "restarts", "status"]);
      expect({ name, status: s.status, kind: s.kind }).toEqual({ name, status: "running", kind: "metric" });
      expect(s.hook as string).toStartWith("tp_btf:");
    }
    expect(byName.get("iolatency")!.reason).toBe(
      "without freeze (kprobe:blk_freeze_queue_start: kprobes unavailable: kernel built without CONFIG_KPROBES)",
    );
    const text = await scrape(d);
    for (const name of BPF_METRICS) {
      const hook = byName.get(name)!.hook as string;
      expect(matching(text, "huatuo_bamai_tracer_up", { tracer: name, hook })).toHaveLength(1);
      expect(sumOf(text, "huatuo_bamai_tracer_up", { tracer: name })).toBe(1);
    }
    expect(text).not.toContain("huatuo_bamai_iolatency_blkdisk_freeze");
  });

  test("softirq: NET_RX counts per CPU rise with a loopback UDP burst; the histogram agrees with the zones", async () => {
    const before = await scrape(d);
    await loopbackBurst(5000);
    const after = await scrape(d);
    const rx = (text: string) => sumOf(text, "huatuo_bamai_softirq_latency", { type: "NET_RX" })!;
    expect(rx(after) - rx(before)).toBeGreaterThan(100);
    expect(matching(after, "huatuo_bamai_softirq_latency", { type: "NET_TX", zone: "3" }).length).toBeGreaterThan(0);
    // one map dump feeds both: the histogram's count is the zones' sum over the online CPUs
    expect(sumOf(after, "huatuo_bamai_softirq_latency_seconds_count", { type: "NET_RX" })).toBe(rx(after));
    for (const line of matching(after, "huatuo_bamai_softirq_latency")) expect(line).toMatch(/cpuid="\d+"/);
  });

  test("iolatency: q2c and d2c histograms of a loop device move with dd oflag=direct", async () => {
    const dir = workDir("huatuo-iolat-");
    const loop = attachLoop(dir, false);
    try {
      sh(["dd", "if=/dev/zero", `of=${loop.path}`, "bs=4k", "count=300", "oflag=direct"]);
      await Bun.sleep(100);
      const text = await scrape(d);
      const count = (name: string) => sumOf(text, `huatuo_bamai_iolatency_blkdisk_${name}_seconds_count`, { disk: loop.disk }) ?? 0;
      expect(count("d2c")).toBeGreaterThanOrEqual(300);
      expect(count("q2c")).toBe(count("d2c"));
      const sum = (name: string) => sumOf(text, `huatuo_bamai_iolatency_blkdisk_${name}_seconds_sum`, { disk: loop.disk })!;
      expect(sum("q2c")).toBeGreaterThanOrEqual(sum("d2c"));
      expect(matching(text, "huatuo_bamai_iolatency_blkdisk_q2c", { disk: loop.disk })).toHaveLength(6);
      expect(matching(text, "huatuo_bamai_iolatency_blkdisk_d2c", { disk: loop.disk, zone: "5" })).toHaveLength(1);
    } finally {
      loop.detach();
    }
  });

  test("memory_free: allocpages and compaction stall gauges (ns) and the direct reclaim histogram", async () => {
    const text = await scrape(d);
    expect(sumOf(text, "huatuo_bamai_memory_free_allocpages_stall")).toBeGreaterThanOrEqual(0);
    expect(sumOf(text, "huatuo_bamai_memory_free_compaction_stall")).toBeGreaterThanOrEqual(0);
    expect(text).toContain("# TYPE huatuo_bamai_memory_free_allocpages_stall gauge");
    expect(text).toContain("# TYPE huatuo_bamai_memory_free_allocpages_stall_seconds histogram");
    for (const name of BPF_METRICS) expect(sumOf(text, "huatuo_bamai_scrape_collector_success", { collector: name })).toBe(1);
  });
});
