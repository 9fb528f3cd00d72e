/* SPDX-License-Identifier: GPL-2.0 */
/* memory_free: host time stalled in direct reclaim and direct compaction, shared with src/metrics/memory_free.ts. */
#ifndef MEMORY_FREE_H
#define MEMORY_FREE_H

#include "hb_hist.h"

struct memory_free_stall {
	__u64 allocpages_ns;	/* direct reclaim in the page allocator, cumulative */
	__u64 compaction_ns;	/* direct compaction in the page allocator, cumulative */
	struct hb_hist allocpages;	/* one sample per direct reclaim */
};

#endif /* MEMORY_FREE_H */
