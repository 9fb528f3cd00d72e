/* SPDX-License-Identifier: GPL-2.0 */
/* memory_reclaim_events: a task blocked in direct reclaim, shared with src/events/memory_reclaim_events.ts. */
#ifndef MEMORY_RECLAIM_EVENTS_H
#define MEMORY_RECLAIM_EVENTS_H

/* which reclaim the task was in last */
#define RECLAIM_GLOBAL	0	/* try_to_free_pages: the zone watermarks */
#define RECLAIM_MEMCG	1	/* try_to_free_mem_cgroup_pages: its memory cgroup's limit */

struct memory_reclaim_event {
	hb_u64_exact memcg_id;		/* kernfs id of the task's memory cgroup */
	__u64 deltatime_ns;		/* time in direct reclaim within the window */
	__u64 window_ns;		/* from the window's first reclaim until now */
	__u32 pid;			/* thread id */
	__u32 tgid;
	__u32 calls;			/* reclaim calls in the window */
	__u32 scope;			/* RECLAIM_* of the last call */
	char comm[16];
};

#endif /* MEMORY_RECLAIM_EVENTS_H */
