/* SPDX-License-Identifier: GPL-2.0 */
/* selftest: the event emitted by bpf/selftest.bpf.c, which exercises the native readers in tests and benchmarks. */
#ifndef SELFTEST_H
#define SELFTEST_H

struct selftest_event {
	__u32 pid;
	__u32 tid;
	__u32 fd;
	__u32 __pad;
	__u64 seq;
	__u64 count;		/* the write(2) byte count */
	hb_u64_exact ts_ns;
	char comm[16];
};

#endif /* SELFTEST_H */
