// The eBPF metric tracers' programs against the live kernel: every tracepoint variant passes the verifier and
// attaches, the classic iolatency variant counts by disk and sector, forced-off tracepoints select kprobes that
// this kernel lacks (a clear unsupported error), user-space cleanup of per-cgroup entries, compaction that is no stall.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { buildBpf, isRoot, rootOnly } from "./support/bpf_helpers";
import { attachLoop, sh } from "./support/bpf_metrics_support";
import { workDir } from "./support/daemon";
import type { HookKind } from "../src/bpf/hooks";
import type { TracerBpf } from "../src/bpf/loader";
import type { TracerContext } from "../src/framework/types";
import type { Container } from "../src/pod/types";

beforeAll(buildBpf);

const { loadTracer } = await import("../src/bpf/loader");
const { UnsupportedError } = await import("../src/framework/types");
const { softirqBpf, createSoftirq } = await import("../src/metrics/softirq");
const { memoryFreeBpf, createMemoryFree } = await import("../src/metrics/memory_free");
const { memoryReclaimBpf, createMemoryReclaim } = await import("../src/metrics/memory_reclaim");
const { iolatencyBpf, createIolatency } = await import("../src/metrics/iolatency");
const { runqlatSpec } = await import("../src/metrics/runqlat");
const { ContainerCgroupIds, pruneCgroupKeys } = await import("../src/metrics/cgroup_ids");
const { decodeIolatDisk } = await import("../src/bpf/gen/iolatency");
const { decodeMemoryFreeStall } = await import("../src/bpf/gen/memory_free");

const noContainers = { containers: { list: () => [] } } as unknown as TracerContext;
const SPECS: Record<string, TracerBpf> = {
  softirq: softirqBpf,
  memory_free: memoryFreeBpf,
  memory_reclaim: memoryReclaimBpf,
  iolatency: iolatencyBpf,
  runqlat: runqlatSpec(true),
};

/** The spec with each hook reduced to its candidates of one kind (optional hooks may be left without any). */
function only(spec: TracerBpf, kind: HookKind): TracerBpf {
  return { ...spec, hooks: spec.hooks.map((h) => ({ ...h, candidates: h.candidates.filter((c) => c.kind === kind) })) };
}

async function failure(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a failure");
}

describe.skipIf(!isRoot)(rootOnly("eBPF metric programs on the live kernel"), () => {
  for (const [name, spec] of Object.entries(SPECS)) {
    test(`${name}: the tp_btf, raw_tp and classic tracepoint variants each load and attach`, async () => {
      for (const kind of ["tp_btf", "raw_tp", "tracepoint"] as const) {
        const object = await loadTracer(only(spec, kind));
        expect(object.hook).toStartWith(`${kind}:`);
        object.close();
      }
    });
  }

  test("forced-off tracepoints select each tracer's kprobe, unsupported here with the reason", async () => {
    const cases: Array<[() => Promise<unknown>, string]> = [
      [() => createSoftirq({ noTracepoints: true }), "attach softirq hook softirq_raise: kprobe:__raise_softirq_irqoff: kprobes unavailable"],
      [() => createMemoryFree({ noTracepoints: true }), "attach memory_free hook mm_vmscan_direct_reclaim_begin: kprobe:try_to_free_pages: kprobes unavailable"],
      [() => createMemoryReclaim(noContainers, { noTracepoints: true }), "attach memory_reclaim hook mm_vmscan_memcg_reclaim_begin: kprobe:try_to_free_mem_cgroup_pages: kprobes unavailable"],
      [() => createIolatency(noContainers, { noTracepoints: true }), "attach iolatency hook block_rq_issue: kprobe:blk_mq_start_request: kprobes unavailable"],
    ];
    for (const [create, message] of cases) {
      const err = await failure(create);
      expect(err).toBeInstanceOf(UnsupportedError);
      expect(err.message).toStartWith(message);
      expect(err.message).toContain("tracepoints disabled by option");
      expect(err.message).not.toContain("\n");
    }
  });

  test("iolatency's classic tracepoint variant matches requests by disk and sector", async () => {
    const object = await loadTracer(only(iolatencyBpf, "tracepoint"));
    const loop = attachLoop(workDir("huatuo-iolat-tp-"), false);
    try {
      sh(["dd", "if=/dev/zero", `of=${loop.path}`, "bs=4k", "count=100", "oflag=direct"]);
      const [major, minor] = loop.disk.split(":").map(Number) as [number, number];
      const key = Buffer.alloc(4);
      key.writeUInt32LE(major * 2 ** 20 + minor);
      const value = object.map("iolat_disks").lookup(key)!;
      const disk = decodeIolatDisk(new DataView(value.buffer, value.byteOffset, value.byteLength), 0);
      expect(disk.d2c.count).toBeGreaterThanOrEqual(100);
      // without the request, queueing is unknown: q2c counts from dispatch like d2c
      expect(disk.q2c.sum_ns).toBe(disk.d2c.sum_ns);
    } finally {
      loop.detach();
      object.close();
    }
  });
});

describe.skipIf(!isRoot)(rootOnly("per-cgroup entries cleaned from user space"), () => {
  const dir = `/sys/fs/cgroup/memory/huatuo-test-${process.pid}`;
  beforeAll(() => mkdirSync(dir));
  afterAll(() => rmdirSync(dir));

  test("a container's cgroup id is the inode of its cgroup directory; other ids' entries are deleted", async () => {
    const container = { id: "c1", cgroupPath: dir.slice("/sys/fs/cgroup/memory/".length) } as Container;
    const ids = new ContainerCgroupIds("memory").resolve([container]);
    const id = statSync(dir, { bigint: true }).ino;
    expect([...ids.keys()]).toEqual([id]);
    const object = await loadTracer(memoryReclaimBpf);
    const map = object.map("memory_reclaim_count");
    const key = (n: bigint) => {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(n);
      return b;
    };
    for (const n of [id, 7n, 8n]) map.update(key(n), key(1n));
    expect(pruneCgroupKeys(map, map.dump(), ids)).toBeGreaterThanOrEqual(2);
    const left = map.dump();
    const keys = Array.from({ length: left.count }, (_, i) => left.keys.readBigUInt64LE(i * 8));
    expect(keys).toContain(id);
    expect(keys).not.toContain(7n);
    object.close();
  });
});

describe.skipIf(!isRoot)(rootOnly("memory_free on the live kernel"), () => {
  test("compaction outside the page allocator (compact_memory) runs our programs but is no stall", async () => {
    const stats = "/proc/sys/kernel/bpf_stats_enabled";
    const previous = readFileSync(stats, "utf8").trim();
    const object = await loadTracer(memoryFreeBpf);
    writeFileSync(stats, "1");
    try {
      writeFileSync("/proc/sys/vm/compact_memory", "1");
      expect(object.programStats("memory_free_btf_compact_end").runCount).toBeGreaterThan(0);
      const value = object.map("memory_free_stall").lookup(Buffer.alloc(4))!;
      expect(decodeMemoryFreeStall(new DataView(value.buffer, value.byteOffset, value.byteLength), 0).compaction_ns).toBe(0);
    } finally {
      writeFileSync(stats, previous);
      object.close();
    }
  });
});
