/* SPDX-License-Identifier: GPL-2.0 */
/* softirq: per-CPU raise-to-entry latency of NET_TX and NET_RX, shared with src/metrics/softirq.ts. */
#ifndef SOFTIRQ_H
#define SOFTIRQ_H

#include "hb_hist.h"

/* HUATUO zones, in us: [0,10) [10,100) [100,1000) [1000,inf) */
#define SOFTIRQ_ZONES 4
/* map index = vector - NET_TX_SOFTIRQ: 0 NET_TX, 1 NET_RX */
#define SOFTIRQ_TYPES 2

struct softirq_lat {
	__u64 raised_ns;	/* first raise not yet entered, 0 when none */
	__u64 zones[SOFTIRQ_ZONES];
	struct hb_hist hist;
};

#endif /* SOFTIRQ_H */
