// The BPF log2 histogram as a Prometheus histogram in seconds, and sums of per-CPU copies.
import { expect, test } from "bun:test";
import { addHist, emptyHist, toSecondsHistogram, type Log2Hist } from "./latency_hist";

function hist(slots: Record<number, number>): Log2Hist {
  const all = Array.from({ length: 27 }, (_, k) => slots[k] ?? 0);
  return { slots: all, count: all.reduce((a, b) => a + b, 0), sum_ns: 5_000_000 };
}

test("slot k becomes the cumulative bucket le=2^k µs; the overflow slot only counts in +Inf", () => {
  const value = toSecondsHistogram(hist({ 0: 1, 3: 4, 26: 2 }));
  expect(value.buckets.length).toBe(26);
  expect(value.buckets[0]).toEqual([1e-6, 1]);
  expect(value.buckets[2]).toEqual([4e-6, 1]);
  expect(value.buckets[3]).toEqual([8e-6, 5]);
  expect(value.buckets.at(-1)).toEqual([2 ** 25 / 1e6, 5]);
  expect(value.count).toBe(7);
  expect(value.sum).toBe(0.005);
});

test("addHist sums slots, counts and sums into an empty histogram", () => {
  const total = addHist(addHist(emptyHist(), hist({ 1: 2 })), hist({ 1: 1, 4: 3 }));
  expect(total.slots[1]).toBe(3);
  expect(total.slots[4]).toBe(3);
  expect(total.slots.length).toBe(27);
  expect(total.count).toBe(6);
  expect(total.sum_ns).toBe(10_000_000);
});
