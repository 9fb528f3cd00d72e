/* SPDX-License-Identifier: GPL-2.0 */
/* runqlat: the histogram shared between bpf/runqlat.bpf.c and src/metrics/runqlat.ts (via generated decoders). */
#ifndef RUNQLAT_H
#define RUNQLAT_H

/* HUATUO zones, in ms: [0,10) [10,20) [20,50) [50,inf) */
#define RUNQLAT_ZONES 4
/* log2 buckets of the latency in us: slot 0 is < 1 us, slot k is [2^(k-1), 2^k) us, the last also holds all above */
#define RUNQLAT_SLOTS 27

struct runqlat_hist {
	__u64 zones[RUNQLAT_ZONES];
	__u64 slots[RUNQLAT_SLOTS];
	__u64 count;
	__u64 sum_ns;
};

#endif /* RUNQLAT_H */
