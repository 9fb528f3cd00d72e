// Event readers and maps against the real kernel, driven by bpf/selftest.bpf.c (one event per write(2) of
// this process): ring and perf buffers, a full caller buffer, counted losses, map operations, drain throughput.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, openSync, writeSync } from "node:fs";
import { buildBpf, isRoot, rootOnly } from "./bpf_helpers";
import type { BpfObject } from "../src/bpf/object";
import type { SelftestEvent } from "../src/bpf/gen/selftest";
import type { EventReader } from "../src/bpf/ringbuf";

beforeAll(buildBpf);

const { loadTracer } = await import("../src/bpf/loader");
const { constant } = await import("../src/bpf/object");
const { decodeSelftestEvent } = await import("../src/bpf/gen/selftest");

const devNull = openSync("/dev/null", "w");
afterAll(() => closeSync(devNull));

/** usePerf: the perf buffer path of kernels before 5.8 (the ring buffer map is then not even created). */
function loadSelftest(usePerf: boolean, tgid = process.pid): Promise<BpfObject> {
  return loadTracer(
    {
      object: "selftest",
      hooks: [{ name: "sys_enter_write", candidates: [{ kind: "tracepoint", program: "selftest_write", target: "syscalls/sys_enter_write" }] }],
      constants: { target_tgid: constant.u32(tgid) },
      events: { ringbuf: "selftest_rb", perfbuf: "selftest_pb", perfFlag: "use_perf" },
    },
    { noRingbuf: usePerf },
  );
}

/** Writes 1..n bytes (cycling up to 64) to /dev/null n times; returns the sizes. */
function writes(n: number): number[] {
  const sizes = Array.from({ length: n }, (_, i) => (i % 64) + 1);
  const chunk = Buffer.alloc(64);
  for (const size of sizes) writeSync(devNull, chunk, 0, size);
  return sizes;
}

/** Every event of this process's writes to /dev/null (the test runner writes elsewhere too). */
function drainAll(reader: EventReader): SelftestEvent[] {
  const events: SelftestEvent[] = [];
  while (reader.drain(decodeSelftestEvent, (e) => events.push(e)) > 0);
  return events.filter((e) => e.fd === devNull);
}

describe.skipIf(!isRoot)(rootOnly("event readers"), () => {
  for (const usePerf of [false, true]) {
    test(`${usePerf ? "perf" : "ring"} buffer: every event, decoded as the kernel wrote it`, async () => {
      const object = await loadSelftest(usePerf);
      const reader = object.events({ perfPages: 64 });
      expect(object.eventMap).toBe(usePerf ? "selftest_pb" : "selftest_rb");
      if (usePerf) expect(() => object.map("selftest_rb")).toThrow("map selftest_rb: not created");
      const sizes = writes(1000);
      const events = drainAll(reader);
      expect(events.map((e) => e.count)).toEqual(sizes);
      expect(events.every((e) => e.pid === process.pid && e.comm.length > 0)).toBe(true);
      expect(events.every((e, i) => i === 0 || e.seq > events[i - 1]!.seq)).toBe(true);
      expect(events.every((e, i) => i === 0 || e.ts_ns >= events[i - 1]!.ts_ns)).toBe(true);
      expect(reader.lost()).toBe(0);
      object.close();
    });
  }

  test("a small caller buffer takes several reads and loses nothing", async () => {
    const object = await loadSelftest(false);
    const reader = object.reader("selftest_rb", { bufferBytes: 3 * 64 });
    writes(100);
    let reads = 0;
    const events: SelftestEvent[] = [];
    for (let n; (n = reader.drain(decodeSelftestEvent, (e) => events.push(e))) > 0; reads++) expect(n).toBeLessThanOrEqual(3);
    expect(events.filter((e) => e.fd === devNull).length).toBe(100);
    expect(reads).toBeGreaterThanOrEqual(34);
    object.close();
  });

  for (const usePerf of [false, true]) {
    test(`${usePerf ? "perf" : "ring"} buffer overflow is counted, never silent`, async () => {
      const object = await loadSelftest(usePerf);
      const reader = object.events({ perfPages: 1 });
      writes(usePerf ? 2000 : 40_000);
      let received = 0;
      while (reader.read(() => received++) > 0);
      // the kernel reports a perf overrun with the next record that fits
      writes(1);
      while (reader.read(() => received++) > 0);
      const calls = object.map("selftest_calls").lookup(constant.u32(0))!.readBigUInt64LE(0);
      expect(reader.lost()).toBeGreaterThan(0);
      // the ring buffer's BPF side counts each failed reserve; perf counts what the kernel dropped
      if (!usePerf) expect(received + reader.lost()).toBe(Number(calls));
      object.close();
    });
  }

  for (const usePerf of [false, true]) {
    test(`${usePerf ? "perf" : "ring"} buffer: a read with a timeout sleeps until a record comes, or the deadline`, async () => {
      // a child is the traced process: this one's test runner may write at any time
      const quiet = Bun.spawn(["sleep", "10"]);
      const silent = await loadSelftest(usePerf, quiet.pid);
      let started = performance.now();
      expect(silent.events().read(() => {}, 200)).toBe(0);
      expect(performance.now() - started).toBeGreaterThanOrEqual(190);
      quiet.kill();
      silent.close();

      const writer = Bun.spawn(["sh", "-c", "sleep 0.5; echo ready > /dev/null; sleep 10"]);
      const object = await loadSelftest(usePerf, writer.pid);
      started = performance.now();
      expect(object.events().read(() => {}, 5000)).toBe(1);
      expect(performance.now() - started).toBeLessThan(4000);
      writer.kill();
      object.close();
    });
  }

  test("pump drains in the background until aborted, without blocking the event loop", async () => {
    const object = await loadSelftest(false);
    const reader = object.reader("selftest_rb");
    const stop = new AbortController();
    const events: SelftestEvent[] = [];
    const pumping = reader.pump(decodeSelftestEvent, (e) => e.fd === devNull && events.push(e), stop.signal, 10);
    for (let i = 0; i < 5; i++) {
      writes(100);
      await Bun.sleep(20);
    }
    await Bun.sleep(50);
    stop.abort();
    await pumping;
    expect(events.length).toBe(500);
    expect(object.programStats("selftest_write").runCount).toBeGreaterThanOrEqual(0);
    object.close();
  });

  test("drain throughput into decoded objects", async () => {
    const object = await loadSelftest(false);
    const reader = object.reader("selftest_rb");
    let decoded = 0;
    let spent = 0;
    for (let round = 0; round < 20; round++) {
      writes(10_000);
      const started = performance.now();
      while (reader.drain(decodeSelftestEvent, () => decoded++) > 0);
      spent += performance.now() - started;
    }
    console.log(`ring buffer drain+decode: ${Math.round(decoded / (spent / 1000))} events/s (${decoded} events, lost ${reader.lost()})`);
    expect(decoded).toBeGreaterThanOrEqual(200_000);
    object.close();
  });
});

describe.skipIf(!isRoot)(rootOnly("perf events"), () => {
  test("a program sampling cpu-clock at 99 Hz on every CPU runs", async () => {
    const object = await loadTracer({
      object: "selftest",
      // PERF_TYPE_SOFTWARE (1) : PERF_COUNT_SW_CPU_CLOCK (0)
      hooks: [{ name: "cpu-clock", candidates: [{ kind: "perf_event", program: "selftest_sample", target: "1:0", frequency: 99 }] }],
    });
    expect(object.hook).toBe("perf_event:1:0");
    const busy = Bun.spawn(["stress-ng", "--cpu", "1", "-t", "1"], { stdout: "ignore", stderr: "ignore" });
    await busy.exited;
    const samples = Number(object.map("selftest_calls").lookup(constant.u32(1))!.readBigUInt64LE(0));
    // one busy CPU for a second at 99 Hz, plus whatever else ran
    expect(samples).toBeGreaterThan(50);
    object.close();
  });
});

describe.skipIf(!isRoot)(rootOnly("maps"), () => {
  test("lookup, dump, update and delete; per-CPU values summed or raw", async () => {
    const object = await loadSelftest(false);
    const sizes = writes(50);
    const bytes = object.map("selftest_bytes");
    const fdKey = constant.u32(devNull);
    expect(Number(bytes.lookup(fdKey)!.readBigUInt64LE(0))).toBe(sizes.reduce((a, b) => a + b, 0));
    const dump = bytes.dump();
    const keys = Array.from({ length: dump.count }, (_, i) => dump.keys.readUInt32LE(i * dump.keySize));
    expect(keys).toContain(devNull);
    bytes.update(constant.u32(999_999), constant.u64(7));
    expect(bytes.lookup(constant.u32(999_999))!.readBigUInt64LE(0)).toBe(7n);
    expect(bytes.delete(constant.u32(999_999))).toBe(true);
    expect(bytes.delete(constant.u32(999_999))).toBe(false);
    expect(bytes.lookup(constant.u32(999_999))).toBeUndefined();

    const calls = object.map("selftest_calls");
    expect(calls.percpu).toBe(true);
    const summed = calls.lookup(constant.u32(0))!.readBigUInt64LE(0);
    const raw = calls.lookup(constant.u32(0), { raw: true })!;
    expect(raw.length).toBe(8 * calls.ncpus);
    let total = 0n;
    for (let cpu = 0; cpu < calls.ncpus; cpu++) total += raw.readBigUInt64LE(cpu * 8);
    expect(total).toBe(summed);
    expect(summed).toBeGreaterThanOrEqual(50n);
    const all = calls.dump();
    expect(all.count).toBe(calls.maxEntries);
    expect(all.values.readBigUInt64LE(0)).toBeGreaterThanOrEqual(summed);
    object.close();
  });
});
