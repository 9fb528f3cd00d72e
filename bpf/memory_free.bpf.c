// SPDX-License-Identifier: GPL-2.0
/* memory_free: time tasks stall in the page allocator's direct reclaim and direct compaction, summed in kernel. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hb_common.h"
#include "memory_free.h"

enum stall_kind {
	STALL_RECLAIM = 0,
	STALL_COMPACT = 1,
};

/* Start of the stall per thread and kind; LRU so that threads killed mid-stall cannot fill it. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 10240);
	__type(key, u64);		/* kind << 32 | thread id */
	__type(value, u64);		/* ns */
} memory_free_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct memory_free_stall);
} memory_free_stall SEC(".maps");

HB_EXPORT_STRUCT(memory_free_stall);

static __always_inline u64 start_key(enum stall_kind kind)
{
	return (u64)kind << 32 | (u32)bpf_get_current_pid_tgid();
}

static __always_inline struct memory_free_stall *totals(void)
{
	u32 zero = 0;

	return bpf_map_lookup_elem(&memory_free_stall, &zero);
}

static __always_inline void stall_begin(enum stall_kind kind)
{
	u64 key = start_key(kind), now = bpf_ktime_get_ns();

	bpf_map_update_elem(&memory_free_start, &key, &now, BPF_ANY);
}

static __always_inline void reclaim_end(void)
{
	u64 key = start_key(STALL_RECLAIM), *start, delta;
	struct memory_free_stall *t;

	start = bpf_map_lookup_elem(&memory_free_start, &key);
	if (!start)
		return;
	delta = bpf_ktime_get_ns() - *start;
	bpf_map_delete_elem(&memory_free_start, &key);
	t = totals();
	if (!t)
		return;
	t->allocpages_ns += delta;
	hb_hist_add(&t->allocpages, delta);
}

/*
 * Direct compaction has a tracepoint at its start (mm_compaction_try_to_compact_pages) but none at its end;
 * it compacts zone after zone, each ending in mm_compaction_end. Each zone's end adds the time since the
 * start or the previous zone's end, so the sum is the stall up to the last zone (what follows it is a few
 * checks). kcompactd, proactive compaction and /proc/sys/vm/compact_memory never pass the start, so they
 * are not counted, unless the same thread did direct compaction before: its start is only replaced by its
 * next one (a thread that both allocates under fragmentation and writes compact_memory is rare).
 * finished: the stall is over (kretprobe), forget it.
 */
static __always_inline void compaction_progress(bool finished)
{
	u64 key = start_key(STALL_COMPACT), *start, now;
	struct memory_free_stall *t;

	start = bpf_map_lookup_elem(&memory_free_start, &key);
	if (!start)
		return;
	now = bpf_ktime_get_ns();
	t = totals();
	if (t)
		t->compaction_ns += now - *start;
	if (finished)
		bpf_map_delete_elem(&memory_free_start, &key);
	else
		*start = now;
}

/* Variant 1: BTF-typed tracepoints (5.5+ with kernel BTF). */
SEC("tp_btf/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(memory_free_btf_reclaim_begin)
{
	stall_begin(STALL_RECLAIM);
	return 0;
}

SEC("tp_btf/mm_vmscan_direct_reclaim_end")
int BPF_PROG(memory_free_btf_reclaim_end)
{
	reclaim_end();
	return 0;
}

SEC("tp_btf/mm_compaction_try_to_compact_pages")
int BPF_PROG(memory_free_btf_compact_begin)
{
	stall_begin(STALL_COMPACT);
	return 0;
}

SEC("tp_btf/mm_compaction_end")
int BPF_PROG(memory_free_btf_compact_end)
{
	compaction_progress(false);
	return 0;
}

/* Variant 2: raw tracepoints (4.17+). */
SEC("raw_tp/mm_vmscan_direct_reclaim_begin")
int BPF_PROG(memory_free_raw_reclaim_begin)
{
	stall_begin(STALL_RECLAIM);
	return 0;
}

SEC("raw_tp/mm_vmscan_direct_reclaim_end")
int BPF_PROG(memory_free_raw_reclaim_end)
{
	reclaim_end();
	return 0;
}

SEC("raw_tp/mm_compaction_try_to_compact_pages")
int BPF_PROG(memory_free_raw_compact_begin)
{
	stall_begin(STALL_COMPACT);
	return 0;
}

SEC("raw_tp/mm_compaction_end")
int BPF_PROG(memory_free_raw_compact_end)
{
	compaction_progress(false);
	return 0;
}

/* Variant 3: classic tracepoints; the records' fields are not needed. */
SEC("tracepoint/vmscan/mm_vmscan_direct_reclaim_begin")
int memory_free_tp_reclaim_begin(void *ctx)
{
	stall_begin(STALL_RECLAIM);
	return 0;
}

SEC("tracepoint/vmscan/mm_vmscan_direct_reclaim_end")
int memory_free_tp_reclaim_end(void *ctx)
{
	reclaim_end();
	return 0;
}

SEC("tracepoint/compaction/mm_compaction_try_to_compact_pages")
int memory_free_tp_compact_begin(void *ctx)
{
	stall_begin(STALL_COMPACT);
	return 0;
}

SEC("tracepoint/compaction/mm_compaction_end")
int memory_free_tp_compact_end(void *ctx)
{
	compaction_progress(false);
	return 0;
}

/* Variant 4: kprobes on the functions themselves, as HUATUO did. */
SEC("kprobe/try_to_free_pages")
int BPF_KPROBE(memory_free_kp_reclaim_begin)
{
	stall_begin(STALL_RECLAIM);
	return 0;
}

SEC("kretprobe/try_to_free_pages")
int BPF_KRETPROBE(memory_free_kp_reclaim_end)
{
	reclaim_end();
	return 0;
}

SEC("kprobe/try_to_compact_pages")
int BPF_KPROBE(memory_free_kp_compact_begin)
{
	stall_begin(STALL_COMPACT);
	return 0;
}

SEC("kretprobe/try_to_compact_pages")
int BPF_KRETPROBE(memory_free_kp_compact_end)
{
	compaction_progress(true);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
