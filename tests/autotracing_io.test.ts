// iotracing, memburst and dload on the real kernel: direct writes to a loop device name their writer and its device
// file; a process allocating gigabytes tops the memburst record; writers blocked on a frozen filesystem (fsfreeze)
// inside a fake container raise its D-state load and their stacks are stored. Runners are driven tick by tick.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, type Subprocess } from "bun";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DloadTracer } from "../src/autotracing/dload";
import { IotracingTracer } from "../src/autotracing/iotracing";
import { MemburstTracer } from "../src/autotracing/memburst";
import { autoContext, LoopDevice, never, renamedBinary } from "../src/autotracing/testing";
import type { Container } from "../src/pod/types";
import type { Document } from "../src/storage/document";
import { buildBpf, isRoot, rootOnly } from "./support/bpf_helpers";
import { KubeNode, V1_ROOTS, type FakeContainer } from "./support/cgroups";
import { BINARY, runBinary } from "./support/daemon";

const BUN = BINARY.replace(/dist\/huatuo-bamai$/, "node_modules/.bin/bun");
beforeAll(buildBpf);

interface ProcessIo {
  pid: number;
  comm: string;
  disk_write: number;
  file_stat: string[];
  file_count: number;
}

describe.skipIf(!isRoot)(rootOnly("iotracing"), () => {
  let loop: LoopDevice;
  let dd: ReturnType<typeof renamedBinary>;
  let writer: Subprocess | undefined;
  beforeAll(() => {
    loop = new LoopDevice(256);
    dd = renamedBinary("/bin/dd", "hbwriter");
  });
  afterAll(() => {
    writer?.kill();
    loop?.close();
    dd?.remove();
  });

  // dsync makes each 4 KiB write wait for the backing file's flush: a few MB/s that keep the device busy (80% util
  // here) for the whole test instead of filling it in a fraction of a second through the page cache
  const startWriter = () =>
    spawn([dd.path, "if=/dev/zero", `of=${loop.device}`, "bs=4k", "oflag=direct,dsync"], { stdout: "ignore", stderr: "ignore" });

  test("direct writes to a loop device trigger on it within two windows and name the writer and its file", async () => {
    const { ctx, docs } = autoContext({ IOTracing: { UtilThreshold: 1, AwaitThreshold: 1, RunTracingToolTimeout: 2 } });
    const tracer = new IotracingTracer(ctx, { windowS: 1 });
    writer = startWriter();
    // no cooldown: another busy disk of this shared host may come first, the loop device must follow
    const deadline = Date.now() + 15_000;
    const ours = () => docs.find((d) => (d.tracer_data.reason_snapshot as { device: string }).device === loop.name);
    while (!ours() && Date.now() < deadline) {
      await tracer.tick(never);
      await Bun.sleep(1000);
    }
    writer.kill();
    const doc = ours()!;
    expect(doc).toBeDefined();
    expect(doc.tracer_data.reason_snapshot).toMatchObject({ type: "ioutil", major_num: 7 });
    const w = (doc.tracer_data.process_io_data as ProcessIo[]).find((p) => p.comm === "hbwriter")!;
    expect(w.pid).toBe(writer.pid);
    expect(w.disk_write).toBeGreaterThan(256 << 10);
    expect(w.file_stat[0]).toBe(loop.device);
    const stacks = doc.tracer_data.timeout_io_stack as Array<{ comm: string; stack: { back_trace: string[] } }>;
    for (const s of stacks.filter((s) => s.comm === "hbwriter")) expect(s.stack.back_trace.join(" ")).toMatch(/schedule/);
  }, 30_000);

  test("trace iotracing names the writer from the built binary", async () => {
    writer = startWriter();
    const r = await runBinary(["trace", "iotracing", "--duration", "2", "--output", "json"]);
    writer.kill();
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Document;
    expect(doc.tracer_type).toBe("manual");
    const w = (doc.tracer_data.process_io_data as ProcessIo[]).find((p) => p.comm === "hbwriter")!;
    expect(w.file_stat).toContain(loop.device);
  }, 30_000);
});

describe.skipIf(!isRoot)(rootOnly("memburst"), () => {
  let alloc: Subprocess<"ignore", "pipe", "ignore"> | undefined;
  afterAll(() => alloc?.kill());

  test("a process allocating gigabytes triggers and is listed first", async () => {
    const { ctx, docs } = autoContext({
      MemoryBurst: { SlidingWindowLength: 2, DeltaMemoryBurst: 30, DeltaAnonThreshold: 1, IntervalTracing: 1800, DumpProcessMaxNum: 5 },
    });
    const tracer = new MemburstTracer(ctx);
    await tracer.tick();
    await tracer.tick();
    alloc = spawn([BUN, "-e", "globalThis.b = Buffer.alloc(1536 * 2 ** 20, 1); console.log('ready'); setInterval(() => {}, 1e6)"], { stdout: "pipe", stderr: "ignore" });
    const reader = alloc.stdout.getReader();
    await reader.read();
    expect(await tracer.tick()).toBeDefined();
    const top = docs[0]!.tracer_data.top_memory_usage as Array<{ pid: number; process_name: string; memory_size: number }>;
    expect(top[0]).toMatchObject({ pid: alloc.pid, process_name: "bun" });
    expect(top[0]!.memory_size).toBeGreaterThan(1500 * 2 ** 20);
    expect(top.length).toBeLessThanOrEqual(5);
  }, 30_000);
});

describe.skipIf(!isRoot)(rootOnly("dload"), () => {
  const node = new KubeNode(V1_ROOTS);
  let loop: LoopDevice;
  let mnt: string;
  let fake: FakeContainer;
  let container: Container;
  let writers: Subprocess | undefined;

  beforeAll(() => {
    loop = new LoopDevice(64);
    mnt = loop.mountExt4();
    fake = node.addContainer({ naming: "cgroupfs", qos: "Burstable", podUid: crypto.randomUUID(), name: "frozen", cmd: ["sleep", "600"] });
    container = { id: fake.id, name: "frozen", hostname: "frozen-0", namespace: "load", qos: "burstable", type: "normal", cgroupPath: fake.path } as Container;
  });
  afterAll(async () => {
    if (mnt) Bun.spawnSync(["fsfreeze", "-u", mnt]);
    await writers?.exited;
    await node.cleanup();
    loop?.close();
  });

  /** Twelve writers in the container's cgroups, each blocking in D state on the frozen filesystem. */
  async function freezeWriters(): Promise<void> {
    Bun.spawnSync(["fsfreeze", "-f", mnt]);
    writers = spawn(["sh", "-c", `sleep 0.3; for i in $(seq 12); do (echo x > ${mnt}/f$i) & done; wait`], { stdout: "ignore", stderr: "ignore" });
    for (const root of V1_ROOTS) writeFileSync(join(root, fake.path, "cgroup.procs"), String(writers.pid));
    await Bun.sleep(800);
  }

  test("D tasks in a container raise its D-state load over the threshold; their stacks and the host's are stored", async () => {
    await freezeWriters();
    const { ctx, docs } = autoContext({ Dload: { ThresholdLoad: 0.5, IntervalTracing: 1800 }, IssuesList: [["frozen_fs", "percpu_rwsem_wait"]] }, [container]);
    const tracer = new DloadTracer(ctx);
    expect(await tracer.tick()).toBeDefined(); // 12 D tasks: 12 × 0.08 after one sample
    const data = docs[0]!.tracer_data;
    expect(docs[0]!.container_id).toBe(fake.id);
    expect(data.nr_uninterruptible as number).toBeGreaterThanOrEqual(12);
    expect(data.dload_avg as number).toBeGreaterThan(0.5);
    expect(data.known_issue).toBe("frozen_fs");
    const stack = data.stack as string;
    expect(stack).toStartWith("stacktrace of D task in cgroup:\ntask:sh state:D");
    expect(stack).toContain("percpu_rwsem_wait");
    expect(stack).toContain("stacktrace of D task in host:");
    expect(await tracer.tick()).toBeUndefined(); // cooling down
    expect(tracer.collector.cooldownSkips).toBe(1);
  }, 30_000);

  test("trace dload on the host shows the blocked writers", async () => {
    const r = await runBinary(["trace", "dload", "--duration", "1"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("NR_UNINTERRUPTIBLE");
    expect(r.stdout).toContain("percpu_rwsem_wait");
    Bun.spawnSync(["fsfreeze", "-u", mnt]);
  }, 30_000);
});
