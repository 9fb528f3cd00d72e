/* SPDX-License-Identifier: GPL-2.0 */
/* A log2 latency histogram aggregated in BPF maps, exported by the metric tracers as a Prometheus histogram. */
#ifndef HB_HIST_H
#define HB_HIST_H

/* log2 buckets of the latency in us: slot 0 is < 1 us, slot k is [2^(k-1), 2^k) us, the last also holds all above */
#define HB_HIST_SLOTS 27

struct hb_hist {
	__u64 slots[HB_HIST_SLOTS];
	__u64 count;
	__u64 sum_ns;
};

#ifdef __BPF__
static __always_inline __u64 hb_log2(__u64 v)
{
	__u64 r = 0, shift;

	shift = (v > 0xffffffffULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xffff) << 4; v >>= shift; r |= shift;
	shift = (v > 0xff) << 3; v >>= shift; r |= shift;
	shift = (v > 0xf) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	return r | (v >> 1);
}

/* The slot of one latency. A 64-bit index: a u32 is re-truncated after its bounds check and the verifier loses the bound. */
static __always_inline __u64 hb_hist_slot(__u64 delta_ns)
{
	__u64 us = delta_ns / 1000, slot;

	/* an early return rather than ?:, so clang can merge this test with a caller's own range tests (runqlat's zones) */
	if (!us)
		return 0;
	slot = hb_log2(us) + 1;
	if (slot >= HB_HIST_SLOTS)
		slot = HB_HIST_SLOTS - 1;
	return slot;
}

/* Counts one latency; h is per-CPU, so plain increments suffice. */
static __always_inline void hb_hist_add(struct hb_hist *h, __u64 delta_ns)
{
	h->slots[hb_hist_slot(delta_ns)]++;
	h->count++;
	h->sum_ns += delta_ns;
}
#endif /* __BPF__ */

#endif /* HB_HIST_H */
