// runqlat's translation of the BPF histogram into HUATUO zone counters and a Prometheus histogram.
import { expect, test } from "bun:test";
import { FamilySet } from "../framework/families";
import type { RunqlatHist } from "../bpf/gen/runqlat";
import { emitRunqlat, toHistogram } from "./runqlat";

function hist(slots: Record<number, number>): RunqlatHist {
  const all = Array.from({ length: 27 }, (_, k) => slots[k] ?? 0);
  const count = all.reduce((a, b) => a + b, 0);
  return { zones: [count - 3, 2, 1, 0], slots: all, count, sum_ns: 5_000_000 };
}

test("slot k becomes the cumulative bucket le=2^k µs; the overflow slot only counts in +Inf", () => {
  const value = toHistogram(hist({ 0: 1, 3: 4, 26: 2 }));
  expect(value.buckets.length).toBe(26);
  expect(value.buckets[0]).toEqual([1e-6, 1]);
  expect(value.buckets[2]).toEqual([4e-6, 1]);
  expect(value.buckets[3]).toEqual([8e-6, 5]);
  expect(value.buckets.at(-1)).toEqual([2 ** 25 / 1e6, 5]);
  expect(value.count).toBe(7);
  expect(value.sum).toBe(0.005);
});

test("emits runqlat_latency{zone} counters and the runqlat_latency_seconds histogram", () => {
  const set = new FamilySet({ host: "h", region: "r" });
  emitRunqlat(set.emitterFor("runqlat"), hist({ 1: 10 }));
  const families = new Map(set.all().map((f) => [f.name, f]));
  const zones = families.get("huatuo_bamai_runqlat_latency")!;
  expect(zones.type).toBe("counter");
  expect(zones.samples.map((s) => [s.labels.zone, s.value])).toEqual([["0", 7], ["1", 2], ["2", 1], ["3", 0]]);
  const seconds = families.get("huatuo_bamai_runqlat_latency_seconds")!;
  expect(seconds.type).toBe("histogram");
  expect(seconds.samples.find((s) => s.metricName.endsWith("_count"))!.value).toBe(10);
});
