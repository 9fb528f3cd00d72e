// SPDX-License-Identifier: GPL-2.0
/* selftest: emits one event per write(2) of one process, to test and benchmark the native readers and maps. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "hb_common.h"
#include "selftest.h"

/* Set by the loader: the process whose writes are reported, and where events go. */
const volatile u32 target_tgid = 0;
const volatile bool use_perf = false;

HB_RINGBUF(selftest_rb, 1 << 20);

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(u32));
	__uint(value_size, sizeof(u32));
} selftest_pb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u32);		/* file descriptor */
	__type(value, u64);		/* bytes written */
} selftest_bytes SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 4);
	__type(key, u32);
	__type(value, u64);		/* [0] writes, [1] perf event samples, per CPU */
} selftest_calls SEC(".maps");

HB_EXPORT_STRUCT(selftest_event);

static u64 seq;

static __always_inline void count(u32 fd, u64 bytes)
{
	u64 *total = bpf_map_lookup_elem(&selftest_bytes, &fd);
	u32 zero = 0;
	u64 *calls;

	if (total)
		__sync_fetch_and_add(total, bytes);
	else
		bpf_map_update_elem(&selftest_bytes, &fd, &bytes, BPF_NOEXIST);
	calls = bpf_map_lookup_elem(&selftest_calls, &zero);
	if (calls)
		(*calls)++;
}

static __always_inline void fill(struct selftest_event *e, u64 id, u32 fd, u64 bytes)
{
	e->pid = id >> 32;
	e->tid = (u32)id;
	e->fd = fd;
	e->__pad = 0;
	e->seq = __sync_fetch_and_add(&seq, 1);
	e->count = bytes;
	e->ts_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
}

SEC("tracepoint/syscalls/sys_enter_write")
int selftest_write(struct trace_event_raw_sys_enter *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	struct selftest_event *e, ev;
	u64 bytes = ctx->args[2];
	u32 fd = ctx->args[0];

	if (id >> 32 != target_tgid)
		return 0;
	count(fd, bytes);
	if (use_perf) {
		fill(&ev, id, fd, bytes);
		bpf_perf_event_output(ctx, &selftest_pb, BPF_F_CURRENT_CPU, &ev, sizeof(ev));
		return 0;
	}
	e = bpf_ringbuf_reserve(&selftest_rb, sizeof(*e), 0);
	if (!e) {
		HB_COUNT_LOST(selftest_rb);
		return 0;
	}
	fill(e, id, fd, bytes);
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* Attached as a sampling perf event on every CPU: counts samples. */
SEC("perf_event")
int selftest_sample(void *ctx)
{
	u32 key = 1;
	u64 *samples = bpf_map_lookup_elem(&selftest_calls, &key);

	if (samples)
		(*samples)++;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
