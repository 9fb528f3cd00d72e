/* SPDX-License-Identifier: GPL-2.0 */
/* runqlat: the histogram shared between bpf/runqlat.bpf.c and src/metrics/runqlat.ts (via generated decoders). */
#ifndef RUNQLAT_H
#define RUNQLAT_H

#include "hb_hist.h"

/* HUATUO zones, in ms: [0,10) [10,20) [20,50) [50,inf) */
#define RUNQLAT_ZONES 4

/* the fields of struct hb_hist, spelled out: the generated decoder and src/metrics/runqlat.ts read them flat */
struct runqlat_hist {
	__u64 zones[RUNQLAT_ZONES];
	__u64 slots[HB_HIST_SLOTS];
	__u64 count;
	__u64 sum_ns;
};

#endif /* RUNQLAT_H */
