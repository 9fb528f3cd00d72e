// runqlat's translation of the BPF histogram into HUATUO zone counters and a Prometheus histogram.
import { expect, test } from "bun:test";
import { FamilySet } from "../framework/families";
import type { RunqlatHist } from "../bpf/gen/runqlat";
import type { Container } from "../pod/types";
import { emitContainerRunqlat, emitRunqlat } from "./runqlat";

function hist(slots: Record<number, number>): RunqlatHist {
  const all = Array.from({ length: 27 }, (_, k) => slots[k] ?? 0);
  const count = all.reduce((a, b) => a + b, 0);
  return { zones: [count - 3, 2, 1, 0], slots: all, count, sum_ns: 5_000_000 };
}

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

test("container series: runqlat_container_latency{zone} with the five container labels, no histogram", () => {
  const set = new FamilySet({ host: "h", region: "r" });
  const c = { id: "x", name: "app", hostname: "app-0", namespace: "ns", qos: "burstable", type: "normal" } as Container;
  emitContainerRunqlat(set.emitterFor("runqlat").forContainer(c), hist({ 1: 4 }));
  const families = set.all();
  expect(families.map((f) => f.name)).toEqual(["huatuo_bamai_runqlat_container_latency"]);
  expect(families[0]!.samples[0]!.labels).toEqual({
    zone: "0", container_host: "app-0", container_hostnamespace: "ns", container_level: "burstable",
    container_name: "app", container_type: "normal", host: "h", region: "r",
  });
});
