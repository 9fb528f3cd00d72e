// SPDX-License-Identifier: GPL-2.0
/*
 * softlockup: no tracepoint marks a soft lockup, so this hooks add_taint(TAINT_SOFTLOCKUP), which
 * watchdog_timer_fn calls on the locked-up CPU, in interrupt context over the stuck task.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hb_events.h"
#include "softlockup.h"

/* include/linux/panic.h, unchanged since 3.x */
#define TAINT_SOFTLOCKUP 14

const volatile bool use_perf = false;

HB_EVENT_CHANNEL(softlockup, 16 * 1024);
HB_EXPORT_STRUCT(softlockup_event);

SEC("kprobe/add_taint")
int BPF_KPROBE(softlockup_kp_add_taint, unsigned int flag)
{
	struct softlockup_event e = {};
	u64 id;

	if (flag != TAINT_SOFTLOCKUP)
		return 0;
	id = bpf_get_current_pid_tgid();
	e.cpu = bpf_get_smp_processor_id();
	e.pid = (u32)id;
	e.tgid = id >> 32;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	HB_EVENT_OUTPUT(softlockup, ctx, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
