/* SPDX-License-Identifier: GPL-2.0 */
/* iotracing: per-process block I/O and I/O-blocked stacks, shared between bpf/iotracing.bpf.c and src/autotracing. */
#ifndef IOTRACING_H
#define IOTRACING_H

#define IOTRACING_COMM_LEN 16
#define IOTRACING_MAX_DEPTH 127

/* Block I/O queued by one process on one device (dev is the kernel's dev_t: major << 20 | minor). */
struct io_key {
	__u32 pid;
	__u32 dev;
};

struct io_value {
	__u64 read_bytes;
	__u64 write_bytes;
	__u64 read_ios;
	__u64 write_ios;
	/* completed requests traced from queue (q) or issue (d) to completion (c) */
	__u64 completed;
	__u64 q2c_ns;
	__u64 d2c_ns;
	__u64 q2c_max_ns;
	__u64 d2c_max_ns;
	char comm[IOTRACING_COMM_LEN];
};

/* A thread blocked in D state longer than the threshold, by stack. */
struct blocked_key {
	__u32 tid;
	__s32 stack_id;
};

struct blocked_value {
	__u64 count;
	__u64 total_ns;
	__u64 max_ns;
	__u32 tgid;
	__u32 __pad;
	char comm[IOTRACING_COMM_LEN];
};

#endif /* IOTRACING_H */
