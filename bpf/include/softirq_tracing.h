/* SPDX-License-Identifier: GPL-2.0 */
/* softirq_tracing: a softirq held off past the threshold, shared with src/events/softirq_tracing.ts. */
#ifndef SOFTIRQ_TRACING_H
#define SOFTIRQ_TRACING_H

#define SOFTIRQ_STACK_DEPTH 48
/* NR_SOFTIRQS is 10 since 3.x; room for more */
#define SOFTIRQ_MAX_VECS 16

/* per CPU (a per-CPU array of one); user space reads the sum of suppressed */
struct softirq_cpu_state {
	__u64 raised[SOFTIRQ_MAX_VECS];	/* when each vector became pending, 0 when not pending */
	__u64 window_start;		/* rate limit window */
	__u64 emitted;
	__u64 suppressed;		/* events over the threshold beyond the rate limit */
};

struct softirq_tracing_event {
	__u64 offtime_ns;		/* from the first raise until the softirq ran */
	__u64 threshold_ns;		/* the threshold it exceeded */
	__u64 now_ns;			/* CLOCK_MONOTONIC when it ran */
	hb_u64_exact memcg_id;		/* memory cgroup of that thread, for container attribution */
	__u32 pid;			/* thread running the softirq: the one that held it off */
	__u32 tgid;
	__u32 cpu;
	__u32 vec;			/* HI 0, TIMER 1, NET_TX 2, NET_RX 3, ... (enum softirq numbers) */
	__s32 stack_bytes;		/* bytes of stack filled, negative errno when none */
	__u32 __pad;
	char comm[16];
	hb_u64_exact stack[SOFTIRQ_STACK_DEPTH];
};

#endif /* SOFTIRQ_TRACING_H */
