// The kernel-event tracers' programs on the live kernel, variant by variant: every tracepoint kind loads and attaches,
// the raw and classic tracepoint variants of oom and memory_reclaim_events deliver real events (an OOM kill and
// memory-cgroup reclaim in a scratch cgroup), the perf buffer channel works, and forced-off tracepoints fall back
// to kprobes this kernel lacks (unsupported, with the reason) or, for softlockup, to /dev/kmsg.
import { afterAll, describe, expect, test } from "bun:test";
import { spawn, type Subprocess } from "bun";
import { mkdirSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { buildBpf, isRoot, rootOnly } from "./support/bpf_helpers";
import type { HookKind } from "../src/bpf/hooks";
import type { TracerBpf } from "../src/bpf/loader";
import type { BpfObject } from "../src/bpf/object";
import type { Decoder } from "../src/bpf/ringbuf";
import type { TracerContext } from "../src/framework/types";

buildBpf();

const { loadTracer } = await import("../src/bpf/loader");
const { UnsupportedError } = await import("../src/framework/types");
const { stubContext } = await import("../src/metrics/testing");
const { Logger } = await import("../src/log");
const { pumpEvents } = await import("../src/events/bpf_events");
const { oomBpf, createOom } = await import("../src/events/oom");
const { hungtaskBpf } = await import("../src/events/hungtask");
const { softirqBpf } = await import("../src/events/softirq_tracing");
const { memoryReclaimBpf, createMemoryReclaim } = await import("../src/events/memory_reclaim_events");
const { rasBpf, createRas } = await import("../src/events/ras");
const { createSoftlockup } = await import("../src/events/softlockup");
const { decodeOomEvent } = await import("../src/bpf/gen/oom");
const { decodeMemoryReclaimEvent } = await import("../src/bpf/gen/memory_reclaim_events");
const { decodeSoftirqTracingEvent } = await import("../src/bpf/gen/softirq_tracing");

const SPECS: Record<string, TracerBpf> = {
  oom: oomBpf(true, 4096),
  hungtask: hungtaskBpf,
  softirq_tracing: softirqBpf,
  memory_reclaim_events: memoryReclaimBpf,
};

/** The spec with each hook reduced to its candidates of one kind. */
function only(spec: TracerBpf, kind: HookKind): TracerBpf {
  return { ...spec, hooks: spec.hooks.map((h) => ({ ...h, candidates: h.candidates.filter((c) => c.kind === kind) })) };
}

/** Writes a u64 threshold map as bindThreshold does after a load. */
function setThreshold(object: BpfObject, map: string, ns: number): void {
  const value = Buffer.alloc(8);
  value.writeBigUInt64LE(BigInt(ns));
  object.map(map).update(Buffer.alloc(4), value);
}

/** Events of a loaded object gathered while `work` runs, until `enough` or the deadline. */
async function collect<T>(object: BpfObject, decode: Decoder<T>, work: () => Promise<void>, enough: (e: T[]) => boolean): Promise<T[]> {
  const events: T[] = [];
  const stop = new AbortController();
  const pumping = pumpEvents(object, decode, (e) => void events.push(e), stop.signal, new Logger("test"));
  const deadline = Date.now() + 20_000;
  await work();
  while (!enough(events) && Date.now() < deadline) await Bun.sleep(100);
  stop.abort();
  await pumping;
  return events;
}

/** A scratch v1 memory cgroup with a limit; `run` starts a shell command inside it. */
function scratchMemcg(limit: number) {
  const dir = `/sys/fs/cgroup/memory/huatuo-events-${process.pid}-${Math.floor(Math.random() * 1e6)}`;
  mkdirSync(dir);
  writeFileSync(`${dir}/memory.limit_in_bytes`, String(limit));
  const procs: Subprocess[] = [];
  return {
    dir,
    run(script: string): Subprocess {
      const p = spawn(["sh", "-c", `echo $$ > ${dir}/cgroup.procs; ${script}`], { stdout: "ignore", stderr: "ignore" });
      procs.push(p);
      return p;
    },
    async remove(): Promise<void> {
      for (const p of procs) p.kill("SIGKILL");
      await Promise.all(procs.map((p) => p.exited));
      // a cgroup whose last task just died can be busy for a moment; gone already is fine
      for (let i = 0; i < 50; i++) {
        try {
          rmdirSync(dir);
          return;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
          await Bun.sleep(50);
        }
      }
    },
  };
}

const MiB = 1 << 20;
const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of cleanups) await c();
});

async function failure(work: () => Promise<unknown>): Promise<Error> {
  try {
    await work();
  } catch (err) {
    return err as Error;
  }
  throw new Error("expected a failure");
}

describe.skipIf(!isRoot)(rootOnly("event tracer programs on the live kernel"), () => {
  for (const [name, spec] of Object.entries(SPECS)) {
    test(`${name}: the tp_btf, raw_tp and classic tracepoint variants each load and attach, ring and perf buffer`, async () => {
      for (const kind of ["tp_btf", "raw_tp", "tracepoint"] as const) {
        for (const noRingbuf of [false, true]) {
          const object = await loadTracer(only(spec, kind), { noRingbuf });
          expect(object.hook).toStartWith(`${kind}:`);
          expect(object.eventMap).toBe(noRingbuf ? spec.events!.perfbuf : spec.events!.ringbuf);
          object.close();
        }
      }
    });
  }

  test("ras: the RAS tracepoints this kernel has, each a classic tracepoint", async () => {
    const tracer = await createRas(stubContext());
    expect(tracer.hook).toMatch(/^tracepoint:ras\//);
    await tracer.close?.();
    expect(rasBpf.hooks.every((h) => h.optional)).toBe(true);
  });

  for (const kind of ["raw_tp", "tracepoint"] as const) {
    test(`oom through ${kind}: a real OOM kill in a 32 MiB memory cgroup`, async () => {
      const memcg = scratchMemcg(32 * MiB);
      cleanups.push(memcg.remove);
      const object = await loadTracer(only(oomBpf(true, 4096), kind));
      try {
        const events = await collect(object, decodeOomEvent, async () => {
          memcg.run("exec stress-ng --vm 1 --vm-bytes 256M --vm-keep --oomable -t 20s");
        }, (e) => e.some((o) => o.victim_comm === "stress-ng-vm"));
        const oom = events.find((o) => o.victim_comm === "stress-ng-vm")!;
        expect(oom).toBeDefined();
        expect(oom.trigger_comm).toBe("stress-ng-vm");
        expect(oom.victim_pid).toBeGreaterThan(0);
        expect(oom.anon_rss_kb).toBeGreaterThan(1024);
        expect(oom.oom_score_adj).toBe(1000);
        // the classic record has no task: the victim's memcg is left to /proc; the raw variant reads it
        expect(oom.flags & 1).toBe(kind === "raw_tp" ? 1 : 0);
        expect(oom.trigger_memcg_id).toBeGreaterThan(0n);
      } finally {
        object.close();
      }
    }, 40_000);

    test(`memory_reclaim_events through ${kind}: memcg reclaim past 1 ms in a 16 MiB cgroup`, async () => {
      const memcg = scratchMemcg(16 * MiB);
      cleanups.push(memcg.remove);
      const object = await loadTracer(only(memoryReclaimBpf, kind), { noRingbuf: kind === "tracepoint" });
      setThreshold(object, "reclaim_threshold", 1_000_000);
      const file = join(tmpdir(), basename(memcg.dir));
      try {
        const events = await collect(object, decodeMemoryReclaimEvent, async () => {
          memcg.run(`while :; do dd if=/dev/zero of=${file} bs=1M count=64 2>/dev/null; done`);
        }, (e) => e.some((r) => r.comm === "dd"));
        const r = events.find((e) => e.comm === "dd")!;
        expect(r).toBeDefined();
        expect(r.deltatime_ns).toBeGreaterThan(1_000_000);
        expect(r.scope).toBe(1);
        expect(r.calls).toBeGreaterThan(0);
        expect(r.memcg_id).toBeGreaterThan(0n);
      } finally {
        object.close();
        await memcg.remove();
        rmSync(file, { force: true });
      }
    }, 40_000);
  }

  test("softirq_tracing over the perf buffer: loopback load delivers events with stacks", async () => {
    const object = await loadTracer(softirqBpf, { noRingbuf: true });
    setThreshold(object, "softirq_threshold", 1000);
    const load = Bun.spawn(["stress-ng", "--sock", "1", "-t", "10s"], { stdout: "ignore", stderr: "ignore" });
    try {
      const events = await collect(object, decodeSoftirqTracingEvent, async () => {}, (e) => e.length >= 5);
      expect(events.length).toBeGreaterThanOrEqual(5);
      expect(events.every((e) => e.offtime_ns > 1000 && e.threshold_ns === 1000 && e.stack_bytes > 0)).toBe(true);
    } finally {
      load.kill();
      await load.exited;
      object.close();
    }
  });

  test("forced-off tracepoints: kprobes this kernel lacks are unsupported, softlockup reads /dev/kmsg", async () => {
    const ctx: TracerContext = stubContext();
    const oom = await failure(() => createOom(ctx, { noTracepoints: true }));
    expect(oom).toBeInstanceOf(UnsupportedError);
    expect(oom.message).toStartWith("attach oom hook mark_victim: kprobe:oom_kill_process: kprobes unavailable");
    const reclaim = await failure(() => createMemoryReclaim(ctx, { noTracepoints: true }));
    expect(reclaim).toBeInstanceOf(UnsupportedError);
    expect(reclaim.message).toContain("kprobe:try_to_free_pages: kprobes unavailable");
    const softlockup = await createSoftlockup(ctx);
    expect(softlockup.hook).toBe("kmsg");
    await softlockup.close?.();
  });
});
