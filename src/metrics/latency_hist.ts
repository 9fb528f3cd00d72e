// Log2 latency histograms built in BPF maps (bpf/include/hb_hist.h) as Prometheus histograms in seconds.
import type { HistogramValue } from "../framework/types";

/** struct hb_hist as decoded: slot 0 counts < 1 µs, slot k counts [2^(k-1), 2^k) µs, the last also all above. */
export interface Log2Hist {
  slots: number[];
  count: number;
  sum_ns: number;
}

/** Slot k becomes the cumulative bucket le=2^k µs; the overflow slot only counts in +Inf. */
export function toSecondsHistogram(hist: Log2Hist): HistogramValue {
  const buckets: HistogramValue["buckets"] = [];
  let cumulative = 0;
  for (let k = 0; k < hist.slots.length - 1; k++) {
    cumulative += hist.slots[k]!;
    buckets.push([2 ** k / 1e6, cumulative]);
  }
  return { buckets, sum: hist.sum_ns / 1e9, count: hist.count };
}

/** Adds `from` into `into` (per-CPU copies, or several keys of one series). */
export function addHist(into: Log2Hist, from: Log2Hist): Log2Hist {
  from.slots.forEach((n, k) => (into.slots[k] = (into.slots[k] ?? 0) + n));
  into.count += from.count;
  into.sum_ns += from.sum_ns;
  return into;
}

export function emptyHist(): Log2Hist {
  return { slots: [], count: 0, sum_ns: 0 };
}
