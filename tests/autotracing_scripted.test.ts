// The detectors' runners over scripted /proc files under a private --procfs-prefix: rollback, a one-window spike
// (no trigger), a spike over two windows (trigger), cooldown. Captures are stubbed; documents are kept in memory.
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { CPUSYS_COOLDOWN_S, CpusysTracer } from "../src/autotracing/cpusys";
import { IotracingTracer } from "../src/autotracing/iotracing";
import { MemburstTracer } from "../src/autotracing/memburst";
import { autoContext, never, ScriptedProc } from "../src/autotracing/testing";

let proc: ScriptedProc;
beforeEach(() => (proc = new ScriptedProc()));
afterEach(() => proc.close());

/** /proc/stat with cumulative user, system and idle ticks. */
const stat = (system: number, idle: number) => `cpu  100 0 ${system} ${idle} 0 0 0 0 0 0\ncpu0 100 0 ${system} ${idle} 0 0 0 0 0 0\nintr 0\n`;

describe("cpusys over /proc/stat", () => {
  function setUp() {
    let now = 1_000_000;
    const { ctx, docs } = autoContext({ CPUSys: { SysThreshold: 45, DeltaSysThreshold: 20 } });
    const captured: number[] = [];
    const tracer = new CpusysTracer(ctx, {
      capture: async (_cfg, reading) => (captured.push(reading.nowSys), { data: { now_sys: reading.nowSys, deltasys: reading.deltaSys, flamedata: [] } }),
      now: () => now,
    });
    /** Feeds cumulative (system, idle) ticks; returns whether a document was stored. */
    const step = async (system: number, idle: number, advanceS = 10) => {
      now += advanceS * 1000;
      proc.write("stat", stat(system, idle));
      return (await tracer.tick(never)) !== undefined;
    };
    return { tracer, docs, captured, step };
  }

  test("baseline, a quiet window, then a spike over both thresholds: one capture with the guide's fields", async () => {
    const { docs, step } = setUp();
    expect(await step(0, 0)).toBe(false); // baseline
    expect(await step(10, 90)).toBe(false); // 10%
    expect(await step(70, 130)).toBe(true); // 60%, +50
    expect(docs).toHaveLength(1);
    expect(docs[0]!.tracer_type).toBe("autotracing");
    expect(docs[0]!.tracer_data).toEqual({ now_sys: 60, deltasys: 50, flamedata: [] });
  });

  test("a spike in the first window after the baseline has no rise yet: no trigger, nor while it stays flat", async () => {
    const { docs, step } = setUp();
    await step(0, 0);
    expect(await step(90, 10)).toBe(false); // 90% but the first reading's delta is 0
    expect(await step(180, 20)).toBe(false); // still 90%, delta 0
    expect(docs).toHaveLength(0);
  });

  test("counters going back restart from a new baseline: the rise is measured from there", async () => {
    const { step, tracer } = setUp();
    await step(0, 0);
    await step(10, 90); // 10%
    expect(await step(5, 5)).toBe(false); // rollback
    expect(await step(95, 15)).toBe(false); // 90%: first reading after the rollback
    expect(await step(100, 110)).toBe(false); // 5%
    expect(await step(180, 130)).toBe(true); // 80%, +75
    expect(tracer.collector.triggers).toBe(1);
  });

  test("a second spike within the cooldown is counted, not captured; after the cooldown it is", async () => {
    const { step, tracer, captured } = setUp();
    await step(0, 0);
    await step(10, 90);
    expect(await step(70, 130)).toBe(true);
    await step(80, 220); // 10%
    expect(await step(150, 250, 60)).toBe(false); // 70%, +60, one minute later: cooling down
    expect(tracer.collector.cooldownSkips).toBe(1);
    await step(160, 340); // 10%
    expect(await step(230, 370, CPUSYS_COOLDOWN_S)).toBe(true);
    expect(captured).toEqual([60, 70]);
    expect([tracer.collector.triggers, tracer.collector.captures]).toEqual([3, 2]);
  });
});

/** /proc/diskstats line for sda (and an md device, always saturated) with cumulative io_ticks. */
const diskstats = (ioTicks: number, writes = 0, writeTicks = 0) =>
  `   8       0 sda 0 0 0 0 ${writes} 0 ${writes * 8} ${writeTicks} 0 ${ioTicks} ${ioTicks} 0 0 0 0\n   9       0 md0 0 0 0 0 0 0 0 0 0 ${ioTicks * 2} ${ioTicks} 0 0 0 0\n`;

describe("iotracing over /proc/diskstats", () => {
  function setUp() {
    let clock = 0;
    const { ctx, docs } = autoContext({ IOTracing: { UtilThreshold: 90, AwaitThreshold: 100 } });
    const tracer = new IotracingTracer(ctx, {
      windowS: 5,
      clock: () => clock,
      capture: async () => ({ process_io_data: [{ pid: 42, comm: "dd" }], timeout_io_stack: [], hook: "test" }),
    });
    let ticks = 0;
    let writes = 0;
    let wticks = 0;
    /** One 5 s window at `util`% busy, and optionally `await` ms per write. */
    const window = async (util: number, awaitMs = 0) => {
      clock += 5;
      ticks += util * 50;
      writes += 100;
      wticks += 100 * awaitMs;
      proc.write("diskstats", diskstats(ticks, writes, wticks));
      return tracer.tick(never);
    };
    const rollback = async () => {
      clock += 5;
      ticks = writes = wticks = 0;
      proc.write("diskstats", diskstats(0));
      return tracer.tick(never);
    };
    return { tracer, docs, window, rollback };
  }

  test("one saturated window is not enough; two in a row trigger, naming the disk and the reason", async () => {
    const { docs, window } = setUp();
    await window(0);
    expect(await window(99)).toBeUndefined();
    expect(await window(20)).toBeUndefined();
    expect(await window(99)).toBeUndefined();
    expect(await window(97)).toBeDefined();
    const reason = docs[0]!.tracer_data.reason_snapshot as Record<string, unknown>;
    expect(reason).toMatchObject({ type: "ioutil", device: "sda", major_num: 8, minor_num: 0 });
    expect((reason.iostatus as Record<string, number>).io_util).toBe(97);
    expect(reason.summary).toStartWith("ioutil=97% (threshold=90%) on sda(8:0)");
    expect(docs[0]!.tracer_data.process_io_data).toEqual([{ pid: 42, comm: "dd" }]);
  });

  test("a rollback restarts the windows; the saturated md device never triggers", async () => {
    const { docs, window, rollback } = setUp();
    await window(0);
    await window(99);
    await rollback();
    expect(await window(99)).toBeUndefined(); // first window after the rollback
    expect(await window(99)).toBeDefined();
    expect(docs.map((d) => (d.tracer_data.reason_snapshot as { device: string }).device)).toEqual(["sda"]);
  });

  test("write await over the threshold in two windows triggers write_await", async () => {
    const { docs, window } = setUp();
    await window(10);
    await window(10, 150);
    expect(await window(10, 120)).toBeDefined();
    expect((docs[0]!.tracer_data.reason_snapshot as { type: string }).type).toBe("write_await");
  });

  test("no cooldown, but after a capture detection starts over from a fresh baseline", async () => {
    const { tracer, window } = setUp();
    await window(0);
    await window(99);
    expect(await window(99)).toBeDefined();
    expect(await window(99)).toBeUndefined(); // new baseline
    expect(await window(99)).toBeUndefined(); // one window
    expect(await window(99)).toBeDefined(); // two windows
    expect([tracer.collector.triggers, tracer.collector.captures]).toEqual([2, 2]);
  });
});

describe("memburst over /proc/meminfo", () => {
  const meminfo = (anonMb: number) => `MemTotal: ${1024 * 1024} kB\nActive(anon): ${anonMb * 1024} kB\nInactive(anon): 0 kB\n`;

  test("a doubling over the window past the share of RAM stores the top processes; the cooldown holds the next", async () => {
    let now = 0;
    const { ctx, docs } = autoContext({ MemoryBurst: { SlidingWindowLength: 3, DeltaMemoryBurst: 100, DeltaAnonThreshold: 50, IntervalTracing: 600 } });
    const tracer = new MemburstTracer(ctx, () => now);
    proc.write("self/status", "Name:\tself\n");
    const feed = async (mb: number) => {
      now += 10_000;
      proc.write("meminfo", meminfo(mb));
      return tracer.tick();
    };
    for (const mb of [200, 200, 200]) expect(await feed(mb)).toBeUndefined();
    proc.write("4242/status", "Name:\tallocator\nVmRSS:\t  600000 kB\n");
    proc.write("77/status", "Name:\tsmall\nVmRSS:\t  1000 kB\n");
    proc.write("2/status", "Name:\tkthreadd\n");
    expect(await feed(600)).toBeDefined();
    expect(docs[0]!.tracer_data).toEqual({
      top_memory_usage: [
        { pid: 4242, process_name: "allocator", memory_size: 600000 * 1024 },
        { pid: 77, process_name: "small", memory_size: 1000 * 1024 },
      ],
    });
    for (const mb of [200, 200, 200]) await feed(mb); // the burst sample leaves the window
    expect(await feed(600)).toBeUndefined(); // 40 s later: cooling down
    expect(tracer.collector.cooldownSkips).toBe(1);
  });
});
