// Event readers and maps against the real kernel, driven by bpf/selftest.bpf.c (one event per write(2) of
// this process): ring and perf buffers, a full caller buffer, counted losses, map operations, drain throughput,
// and the shared event poller that wakes readers only when something is ready.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, constants, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBpf, isRoot, rootOnly } from "./support/bpf_helpers";
import type { BpfObject } from "../src/bpf/object";
import type { SelftestEvent } from "../src/bpf/gen/selftest";
import type { EventReader } from "../src/bpf/ringbuf";

beforeAll(buildBpf);

const { loadTracer } = await import("../src/bpf/loader");
const { constant } = await import("../src/bpf/object");
const { decodeSelftestEvent } = await import("../src/bpf/gen/selftest");
const { loadNative } = await import("../src/bpf/native");
const { MIN_REPORT_INTERVAL_MS, Poller } = await import("../src/bpf/poller");

const devNull = openSync("/dev/null", "w");
afterAll(() => closeSync(devNull));

/** usePerf: the perf buffer path of kernels before 5.8 (the ring buffer map is then not even created). */
function loadSelftest(usePerf: boolean, tgid = process.pid, ringBytesPerCpu?: number): Promise<BpfObject> {
  return loadTracer(
    {
      object: "selftest",
      hooks: [{ name: "sys_enter_write", candidates: [{ kind: "tracepoint", program: "selftest_write", target: "syscalls/sys_enter_write" }] }],
      constants: { target_tgid: constant.u32(tgid) },
      events: { ringbuf: "selftest_rb", perfbuf: "selftest_pb", perfFlag: "use_perf", ringBytesPerCpu },
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

  test("a ring sized per CPU holds that much for every possible CPU, rounded up to a power of two", async () => {
    const ringSize = async (bytesPerCpu?: number) => {
      const object = await loadSelftest(false, process.pid, bytesPerCpu);
      const { maxEntries, ncpus } = object.map("selftest_rb");
      object.close();
      return { maxEntries, ncpus };
    };
    const compiled = (await ringSize()).maxEntries;
    const grown = await ringSize(compiled);
    expect(grown.maxEntries).toBeGreaterThanOrEqual(compiled * grown.ncpus);
    expect(grown.maxEntries).toBeLessThan(2 * compiled * grown.ncpus);
    expect(Math.log2(grown.maxEntries) % 1).toBe(0);
    // never below the compiled size
    expect((await ringSize(64)).maxEntries).toBe(compiled);
  });

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

  for (const usePerf of [false, true]) {
    test(`${usePerf ? "perf" : "ring"} buffer: pump reads records as they come, until aborted, without blocking the event loop`, async () => {
      const object = await loadSelftest(usePerf);
      const reader = object.events({ perfPages: 64 });
      const stop = new AbortController();
      const events: SelftestEvent[] = [];
      let lastAt = 0;
      const pumping = reader.pump(decodeSelftestEvent, (e) => e.fd === devNull && events.push(e) && (lastAt = performance.now()), stop.signal);
      let wroteAt = 0;
      for (let i = 0; i < 5; i++) {
        writes(100);
        wroteAt = performance.now();
        await Bun.sleep(20);
      }
      await Bun.sleep(MIN_REPORT_INTERVAL_MS + 100);
      stop.abort();
      await pumping;
      expect(events.length).toBe(500);
      // the last batch waited at most one report interval
      expect(lastAt - wroteAt).toBeLessThan(MIN_REPORT_INTERVAL_MS + 50);
      object.close();
    });
  }

  test("perf buffer: a pump whose buffer fills reads on at once, not a report later", async () => {
    const object = await loadSelftest(true);
    const reader = object.events({ perfPages: 64, bufferBytes: 4096 });
    const stop = new AbortController();
    let received = 0;
    const pumping = reader.pump(decodeSelftestEvent, (e) => e.fd === devNull && received++, stop.signal);
    await Bun.sleep(20);
    writes(1000);
    // about 60 records fit one read: all of them come within one report, not one report per read
    await Bun.sleep(MIN_REPORT_INTERVAL_MS + 100);
    expect(received).toBe(1000);
    stop.abort();
    await pumping;
    object.close();
  });

  test("closing a reader ends its pump", async () => {
    const object = await loadSelftest(false);
    const reader = object.reader("selftest_rb");
    const pumping = reader.pump(decodeSelftestEvent, () => {}, new AbortController().signal);
    await Bun.sleep(20);
    object.close();
    await pumping;
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

// Each test runs its own poller: the process's shared one may be resting after other tests' busy sources.
describe("the event poller", () => {
  const dir = mkdtempSync(join(tmpdir(), "poller-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A FIFO opened for both ends: readable exactly while bytes wait in it. */
  function fifo(name: string): { fd: number; take(): number } {
    const path = join(dir, name);
    Bun.spawnSync(["mkfifo", path]);
    const fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK);
    const buf = Buffer.alloc(4096);
    const take = () => {
      try {
        return readSync(fd, buf, 0, buf.length, null);
      } catch {
        return 0; // EAGAIN
      }
    };
    return { fd, take };
  }

  const pollerThreads = () =>
    readdirSync("/proc/self/task").filter((t) => {
      try {
        return readFileSync(`/proc/self/task/${t}/comm`, "utf8").trim() === "hb-poller";
      } catch {
        return false;
      }
    }).length;

  test("a source is read as soon as it is readable and never while it is idle; the thread lives while watched", async () => {
    const poller = new Poller(await loadNative());
    const before = pollerThreads();
    const source = fifo("idle");
    const stop = new AbortController();
    let calls = 0;
    let bytes = 0;
    let readAt = 0;
    const watching = poller.watch(source.fd, () => {
      calls++;
      const n = source.take();
      bytes += n;
      if (n) readAt = performance.now();
      return false;
    }, stop.signal);
    await Bun.sleep(300);
    expect(calls).toBe(1); // the first look, then nothing while idle
    expect(pollerThreads()).toBe(before + 1);
    const wroteAt = performance.now();
    writeSync(source.fd, "x");
    await Bun.sleep(150);
    expect(bytes).toBe(1);
    expect(readAt - wroteAt).toBeLessThan(100);
    stop.abort();
    await watching;
    expect(pollerThreads()).toBe(before);
    closeSync(source.fd);
  });

  test("a steady stream is read in batches at least MIN_REPORT_INTERVAL_MS apart, nothing missed", async () => {
    const poller = new Poller(await loadNative());
    const source = fifo("steady");
    const stop = new AbortController();
    let calls = 0;
    let bytes = 0;
    const watching = poller.watch(source.fd, () => {
      calls++;
      bytes += source.take();
      return false;
    }, stop.signal);
    const started = performance.now();
    for (let i = 0; i < 100; i++) {
      writeSync(source.fd, "y");
      await Bun.sleep(5);
    }
    const elapsed = performance.now() - started;
    await Bun.sleep(2 * MIN_REPORT_INTERVAL_MS);
    stop.abort();
    await watching;
    expect(bytes).toBe(100);
    expect(calls).toBeLessThanOrEqual(Math.ceil(elapsed / MIN_REPORT_INTERVAL_MS) + 2);
    closeSync(source.fd);
  });

  test("a source that fails rejects its watch; the others keep being read", async () => {
    const poller = new Poller(await loadNative());
    const [bad, good] = [fifo("bad"), fifo("good")];
    const stop = new AbortController();
    let goodBytes = 0;
    const failing = poller.watch(bad.fd, () => {
      if (bad.take()) throw new Error("cannot parse");
      return false;
    }, stop.signal);
    const watching = poller.watch(good.fd, () => ((goodBytes += good.take()), false), stop.signal);
    writeSync(bad.fd, "z");
    await expect(failing).rejects.toThrow("cannot parse");
    writeSync(good.fd, "ok");
    await Bun.sleep(MIN_REPORT_INTERVAL_MS + 100);
    expect(goodBytes).toBe(2);
    stop.abort();
    await watching;
    closeSync(bad.fd);
    closeSync(good.fd);
  });
});
