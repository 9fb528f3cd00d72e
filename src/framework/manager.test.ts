import { expect, test } from "bun:test";
import { defaultConfig } from "../config/schema";
import { ConfigStore } from "../config/store";
import { Logger } from "../log";
import { noContainers } from "../pod/types";
import { discardEvents } from "../storage/sink";
import { TracerManager } from "./manager";
import type { TracerDefinition } from "./types";
import { UnsupportedError } from "./types";

function manager(): TracerManager {
  const log = new Logger("test");
  const ctx = { config: new ConfigStore(defaultConfig()), log, containers: noContainers, region: "r", hostname: "h", events: discardEvents };
  return new TracerManager(ctx, log);
}

const gaugeOf = (name: string, value: number): TracerDefinition => ({
  name,
  kind: "metric",
  description: name,
  create: () => ({ hook: "procfs", collector: { collect: (emit) => emit.gauge("value", "v", value) } }),
});

test("statuses: running, disabled by blacklist, unsupported with reason, failed with error", async () => {
  const m = manager();
  await m.createAll(new Set(["off"]), [
    gaugeOf("ok", 1),
    gaugeOf("off", 2),
    { name: "nokernel", kind: "event", description: "", create: () => { throw new UnsupportedError("no BTF"); } },
    { name: "broken", kind: "event", description: "", create: () => { throw new Error("boom\nsecond line"); } },
  ]);
  const byName = Object.fromEntries(m.statuses().map((s) => [s.name, s]));
  expect(byName.ok).toMatchObject({ status: "running", hook: "procfs" });
  expect(byName.off).toMatchObject({ status: "disabled", reason: "blacklist" });
  expect(byName.nokernel).toMatchObject({ status: "unsupported", reason: "no BTF" });
  expect(byName.broken).toMatchObject({ status: "failed", reason: "boom" });
});

test("a tracer running without an optional hook stays running, and its status says what it lacks", async () => {
  const m = manager();
  const degraded = "without freeze (kprobe:blk_freeze_queue_start: kprobes unavailable)";
  await m.createAll(new Set(), [{ name: "part", kind: "metric", description: "", create: () => ({ hook: "tp_btf:block/block_rq_issue", degraded }) }]);
  expect(m.statuses()[0]).toEqual({
    name: "part", kind: "metric", status: "running", hook: "tp_btf:block/block_rq_issue", reason: degraded, restarts: 0, events: 0,
  });
});

test("a failing or hanging collector reports success=0 and never breaks the others", async () => {
  const m = manager();
  await m.createAll(new Set(), [
    gaugeOf("good", 7),
    { name: "throws", kind: "metric", description: "", create: () => ({ hook: "x", collector: { collect: () => { throw new Error("missing file"); } } }) },
    { name: "hangs", kind: "metric", description: "", create: () => ({ hook: "x", collector: { collect: () => new Promise(() => {}) } }) },
    {
      name: "partial",
      kind: "metric",
      description: "",
      create: () => ({ hook: "x", collector: { collect: (emit) => { emit.gauge("half", "h", 1); throw new Error("late failure"); } } }),
    },
  ]);
  const result = await m.collect({ host: "h", region: "r" }, { timeoutMs: 50 });
  expect(Object.fromEntries(result.success)).toEqual({ good: true, throws: false, hangs: false, partial: false });
  expect(result.families.map((f) => f.name)).toEqual(["huatuo_bamai_good_value"]);
  expect(result.families[0]!.samples[0]).toMatchObject({ labels: { host: "h", region: "r" }, value: 7 });
});

test("a run loop that ends is restarted and counted; close stops it", async () => {
  const m = manager();
  let runs = 0;
  await m.createAll(new Set(), [
    { name: "loop", kind: "event", description: "", restartInterval: 0.01, create: () => ({ hook: "x", run: async () => { runs++; } }) },
  ]);
  m.startLoops();
  await Bun.sleep(200);
  await m.close(1000);
  expect(runs).toBeGreaterThan(1);
  expect(m.statuses()[0]!.restarts).toBeGreaterThan(0);
});
