/* SPDX-License-Identifier: GPL-2.0 */
/* iolatency: per-disk and per-cgroup block I/O latency, shared with src/metrics/iolatency.ts. */
#ifndef IOLATENCY_H
#define IOLATENCY_H

#include "hb_hist.h"

/* HUATUO zones, in ms: (20,30] (30,50] (50,100] (100,200] (200,400] (400,inf); faster I/O is in no zone */
#define IOLAT_ZONES 6

struct iolat_disk {
	__u64 q2c_zones[IOLAT_ZONES];	/* queued (request allocated) to completed */
	__u64 d2c_zones[IOLAT_ZONES];	/* dispatched to the driver to completed */
	__u64 freeze;			/* queue freezes */
	struct hb_hist q2c;
	struct hb_hist d2c;
};

struct iolat_cgroup_key {
	hb_u64_exact cgroup;	/* blkio (v1) or io (v2) cgroup id: inode of its directory */
	__u32 dev;		/* the disk's dev_t, kernel encoding (major << 20 | minor) */
	__u32 __pad;
};

/* Created on the first I/O of a cgroup that lands in a zone (20 ms or more). */
struct iolat_cgroup {
	__u64 q2c_zones[IOLAT_ZONES];
	__u64 d2c_zones[IOLAT_ZONES];
};

#endif /* IOLATENCY_H */
