// runqlat against the real scheduler: counts rise under stress-ng --switch, and the histogram agrees with
// libbpf-tools runqlat over the same window (same order of magnitude in total and in its busiest buckets).
import { beforeAll, describe, expect, test } from "bun:test";
import { buildBpf, isRoot, rootOnly } from "./support/bpf_helpers";
import type { Tracer } from "../src/framework/types";

beforeAll(buildBpf);

const { createRunqlat } = await import("../src/metrics/runqlat");
const { FamilySet } = await import("../src/framework/families");

interface Snapshot {
  zones: number[];
  /** Cumulative count per `le` bound, seconds → count, plus +Inf. */
  buckets: Map<string, number>;
  count: number;
}

async function snapshot(tracer: Tracer): Promise<Snapshot> {
  const set = new FamilySet({ host: "test", region: "test" });
  await tracer.collector!.collect(set.emitterFor("runqlat"), AbortSignal.timeout(5000));
  const families = new Map(set.all().map((f) => [f.name, f]));
  const zones = families.get("huatuo_bamai_runqlat_latency")!.samples.map((s) => s.value);
  const histogram = families.get("huatuo_bamai_runqlat_latency_seconds")!.samples;
  const buckets = new Map(histogram.filter((s) => s.labels.le).map((s) => [s.labels.le!, s.value]));
  return { zones, buckets, count: histogram.find((s) => s.metricName.endsWith("_count"))!.value };
}

/** Per-bucket counts (not cumulative) between two snapshots, keyed by upper bound in µs. */
function delta(before: Snapshot, after: Snapshot): Map<number, number> {
  const out = new Map<number, number>();
  let previous = 0;
  for (const [le, count] of after.buckets) {
    if (le === "+Inf") break;
    const cumulative = count - before.buckets.get(le)!;
    out.set(Math.round(Number(le) * 1e6), cumulative - previous);
    previous = cumulative;
  }
  return out;
}

/** libbpf-tools runqlat's buckets `lo -> hi : count`, keyed by exclusive upper bound (hi + 1) in µs. */
function parseRunqlat(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of text.matchAll(/^\s*(\d+) -> (\d+)\s*: (\d+)/gm)) out.set(Number(m[2]) + 1, Number(m[3]));
  return out;
}

function stress(seconds: number): Promise<number> {
  return Bun.spawn(["stress-ng", "--switch", "2", "-t", String(seconds)], { stdout: "ignore", stderr: "ignore" }).exited;
}

describe.skipIf(!isRoot)(rootOnly("runqlat on the live scheduler"), () => {
  test("counts rise under stress-ng --switch 2 -t 3", async () => {
    const tracer = await createRunqlat();
    const before = await snapshot(tracer);
    expect(await stress(3)).toBe(0);
    const after = await snapshot(tracer);
    await tracer.close?.();
    const switched = after.count - before.count;
    // stress-ng --switch ping-pongs two processes: hundreds of thousands of wakeups per second
    expect(switched).toBeGreaterThan(100_000);
    const zones = after.zones.map((z, i) => z - before.zones[i]!);
    expect(zones.reduce((a, b) => a + b, 0)).toBe(switched);
    expect(zones[0]).toBeGreaterThan(switched * 0.9);
  }, 30_000);

  test("agrees with libbpf-tools runqlat over the same window", async () => {
    const tracer = await createRunqlat();
    // line-buffered, so "Tracing run queue latency..." arrives as soon as it is attached
    const reference = Bun.spawn(["stdbuf", "-oL", "runqlat", "3", "1"], { stdout: "pipe", stderr: "pipe" });
    const reader = reference.stdout.getReader();
    let text = new TextDecoder().decode((await reader.read()).value);
    const before = await snapshot(tracer);
    await stress(2);
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += new TextDecoder().decode(chunk.value);
    const after = await snapshot(tracer);
    await tracer.close?.();
    const ours = delta(before, after);
    const theirs = parseRunqlat(text);
    // our 1 µs and 2 µs buckets together are their "0 -> 1"
    ours.set(2, (ours.get(1) ?? 0) + (ours.get(2) ?? 0));
    ours.delete(1);
    const total = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
    expect(total(theirs)).toBeGreaterThan(100_000);
    expect(total(ours) / total(theirs)).toBeGreaterThan(0.5);
    expect(total(ours) / total(theirs)).toBeLessThan(2);
    // Both tools stamp the same tracepoints, but each one's programs run between the other's stamps: a few
    // hundred ns that move mass across the 2 µs boundary near the mode. Compare below 4 µs as one bucket.
    const below4 = (m: Map<number, number>) => (m.get(2) ?? 0) + (m.get(4) ?? 0);
    expect(below4(ours) / below4(theirs)).toBeGreaterThan(0.5);
    expect(below4(ours) / below4(theirs)).toBeLessThan(2);
    for (const [bound, count] of theirs) {
      if (bound <= 4 || count < total(theirs) / 100) continue;
      const ratio = (ours.get(bound) ?? 0) / count;
      expect(`${bound}us ratio ${ratio > 0.1 && ratio < 10 ? "ok" : ratio}`).toBe(`${bound}us ratio ok`);
    }
  }, 30_000);
});
