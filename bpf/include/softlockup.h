/* SPDX-License-Identifier: GPL-2.0 */
/* softlockup: the task on a CPU the soft-lockup watchdog flagged, shared with src/events/softlockup.ts. */
#ifndef SOFTLOCKUP_H
#define SOFTLOCKUP_H

struct softlockup_event {
	__u32 cpu;
	__u32 pid;		/* thread id */
	__u32 tgid;
	__u32 __pad;
	char comm[16];
};

#endif /* SOFTLOCKUP_H */
