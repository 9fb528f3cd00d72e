// SPDX-License-Identifier: GPL-2.0
/* hungtask: sched:sched_process_hang, fired by khungtaskd for each task blocked longer than hung_task_timeout_secs. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hb_events.h"
#include "hungtask.h"

const volatile bool use_perf = false;

HB_EVENT_CHANNEL(hungtask, 64 * 1024);
HB_EXPORT_STRUCT(hungtask_event);

/* kernels before comm became a __data_loc string in this record held it inline */
struct trace_event_raw_sched_process_hang___inline_comm {
	char comm[16];
} __attribute__((preserve_access_index));

static __always_inline void emit_task(void *ctx, struct task_struct *t)
{
	struct hungtask_event e = {};

	e.pid = BPF_CORE_READ(t, pid);
	e.tgid = BPF_CORE_READ(t, tgid);
	BPF_CORE_READ_STR_INTO(&e.comm, t, comm);
	HB_EVENT_OUTPUT(hungtask, ctx, &e, sizeof(e));
}

HB_TASK_TRACEPOINT(hungtask_btf_hang, hungtask_raw_hang, "sched_process_hang", emit_task)

SEC("tracepoint/sched/sched_process_hang")
int hungtask_tp_hang(struct trace_event_raw_sched_process_hang *ctx)
{
	struct trace_event_raw_sched_process_hang___inline_comm *old = (void *)ctx;
	struct hungtask_event e = {};

	e.pid = ctx->pid;
	if (bpf_core_field_exists(ctx->__data_loc_comm))
		hb_data_loc_str(ctx, ctx->__data_loc_comm, e.comm, sizeof(e.comm));
	else
		bpf_probe_read_kernel_str(e.comm, sizeof(e.comm), old->comm);
	HB_EVENT_OUTPUT(hungtask, ctx, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
