/* SPDX-License-Identifier: GPL-2.0 */
/* hungtask: a task khungtaskd found blocked in D state, shared between bpf/hungtask.bpf.c and src/events/hungtask.ts. */
#ifndef HUNGTASK_H
#define HUNGTASK_H

struct hungtask_event {
	__u32 pid;		/* thread id */
	__u32 tgid;		/* 0 when only the tracepoint record was available */
	char comm[16];
};

#endif /* HUNGTASK_H */
