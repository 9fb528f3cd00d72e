// SPDX-License-Identifier: GPL-2.0
/*
 * memory_reclaim_events: time a task spends in direct reclaim, summed per task over a one-second window
 * and reported once per window past the threshold. Global direct reclaim has the
 * vmscan:mm_vmscan_direct_reclaim_begin/_end tracepoints; a task squeezed by its memory cgroup's limit
 * reclaims through try_to_free_mem_cgroup_pages instead, traced by mm_vmscan_memcg_reclaim_begin/_end.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hb_events.h"
#include "memory_reclaim_events.h"

#define NSEC_PER_SEC 1000000000ULL

const volatile bool use_perf = false;

/* EventTracing.MemoryReclaim.BlockedThreshold in ns, written by user space after load and on reload; 0: not yet */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} reclaim_threshold SEC(".maps");

struct task_reclaim {
	u64 begin_ns;			/* 0 when not in reclaim */
	u64 window_start;
	u64 sum_ns;
	u32 calls;
	u32 scope;
	u32 reported;
	u32 __pad;
};

/* LRU: entries of exited tasks age out instead of filling the map */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, u32);		/* thread id */
	__type(value, struct task_reclaim);
} reclaim_tasks SEC(".maps");

HB_EVENT_CHANNEL(memory_reclaim, 64 * 1024);
HB_EXPORT_STRUCT(memory_reclaim_event);

static __always_inline void begin(u32 scope)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	u64 now = bpf_ktime_get_ns();
	struct task_reclaim fresh = {}, *s;

	s = bpf_map_lookup_elem(&reclaim_tasks, &tid);
	if (!s) {
		fresh.window_start = now;
		bpf_map_update_elem(&reclaim_tasks, &tid, &fresh, BPF_ANY);
		s = bpf_map_lookup_elem(&reclaim_tasks, &tid);
		if (!s)
			return;
	}
	if (now - s->window_start >= NSEC_PER_SEC) {
		s->window_start = now;
		s->sum_ns = 0;
		s->calls = 0;
		s->reported = 0;
	}
	s->begin_ns = now;
	s->scope = scope;
}

static __always_inline void report(void *ctx, struct task_reclaim *s, u64 now)
{
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task();
	struct memory_reclaim_event e = {};
	u64 id = bpf_get_current_pid_tgid();

	e.memcg_id = hb_css_cgroup_id(hb_task_memcg_css(cur));
	e.deltatime_ns = s->sum_ns;
	e.window_ns = now - s->window_start;
	e.pid = (u32)id;
	e.tgid = id >> 32;
	e.calls = s->calls;
	e.scope = s->scope;
	bpf_get_current_comm(e.comm, sizeof(e.comm));
	HB_EVENT_OUTPUT(memory_reclaim, ctx, &e, sizeof(e));
}

static __always_inline void end(void *ctx)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct task_reclaim *s;
	u64 now, *threshold;
	u32 zero = 0;

	s = bpf_map_lookup_elem(&reclaim_tasks, &tid);
	if (!s || !s->begin_ns)
		return;
	now = bpf_ktime_get_ns();
	s->sum_ns += now - s->begin_ns;
	s->begin_ns = 0;
	s->calls++;
	threshold = bpf_map_lookup_elem(&reclaim_threshold, &zero);
	if (threshold && *threshold && !s->reported && s->sum_ns > *threshold) {
		s->reported = 1;
		report(ctx, s, now);
	}
}

SEC("tp_btf/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(reclaim_btf_direct_begin)
{
	begin(RECLAIM_GLOBAL);
	return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_end")
int BPF_PROG(reclaim_btf_direct_end)
{
	end(ctx);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(reclaim_btf_memcg_begin)
{
	begin(RECLAIM_MEMCG);
	return 0;
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(reclaim_btf_memcg_end)
{
	end(ctx);
	return 0;
}

SEC("raw_tp/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(reclaim_raw_direct_begin)
{
	begin(RECLAIM_GLOBAL);
	return 0;
}

SEC("raw_tp/mm_vmscan_direct_reclaim_end")
int BPF_PROG(reclaim_raw_direct_end)
{
	end(ctx);
	return 0;
}

SEC("raw_tp/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(reclaim_raw_memcg_begin)
{
	begin(RECLAIM_MEMCG);
	return 0;
}

SEC("raw_tp/mm_vmscan_memcg_reclaim_end")
int BPF_PROG(reclaim_raw_memcg_end)
{
	end(ctx);
	return 0;
}

SEC("tracepoint/vmscan/mm_vmscan_direct_reclaim_begin")
int reclaim_tp_direct_begin(void *ctx)
{
	begin(RECLAIM_GLOBAL);
	return 0;
}

SEC("tracepoint/vmscan/mm_vmscan_direct_reclaim_end")
int reclaim_tp_direct_end(void *ctx)
{
	end(ctx);
	return 0;
}

SEC("tracepoint/vmscan/mm_vmscan_memcg_reclaim_begin")
int reclaim_tp_memcg_begin(void *ctx)
{
	begin(RECLAIM_MEMCG);
	return 0;
}

SEC("tracepoint/vmscan/mm_vmscan_memcg_reclaim_end")
int reclaim_tp_memcg_end(void *ctx)
{
	end(ctx);
	return 0;
}

/* Kernels without the tracepoints (the original's hooks): global direct reclaim only. */
SEC("kprobe/try_to_free_pages")
int BPF_KPROBE(reclaim_kp_begin)
{
	begin(RECLAIM_GLOBAL);
	return 0;
}

SEC("kretprobe/try_to_free_pages")
int BPF_KRETPROBE(reclaim_kp_end)
{
	end(ctx);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
