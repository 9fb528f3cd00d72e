/* SPDX-License-Identifier: GPL-2.0 */
/* profile: the sample key and counters shared between bpf/profile.bpf.c and src/profiler (via generated decoders). */
#ifndef PROFILE_H
#define PROFILE_H

#define PROFILE_COMM_LEN 16
/* frames kept per stack (perf keeps up to 127): the stack map is 32768 x 64 x 8 bytes (16 MiB) while sampling */
#define PROFILE_MAX_DEPTH 64

/* Samples are counted in kernel per (process, kernel stack, user stack, thread name). */
struct profile_key {
	__u32 pid;		/* tgid: the process */
	__s32 kstack_id;	/* id in profile_stacks, < 0 when the kernel stack could not be taken */
	__s32 ustack_id;	/* likewise for the user stack; < 0 for kernel threads */
	__u32 __pad;
	char comm[PROFILE_COMM_LEN];
};

/* Why samples were not counted, per CPU, indexed by enum profile_stat. */
enum profile_stat {
	PROFILE_SAMPLES,	/* every sample that passed the filters */
	PROFILE_STACK_MISSING,	/* a stack id failed (map full, hash collision) */
	PROFILE_KEY_DROPPED,	/* profile_counts was full */
	PROFILE_NR_STATS,
};

#endif /* PROFILE_H */
