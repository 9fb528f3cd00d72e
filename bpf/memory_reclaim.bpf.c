// SPDX-License-Identifier: GPL-2.0
/* memory_reclaim: direct reclaims of memory cgroups at their limit (try_charge), counted per memory cgroup in kernel. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hb_cgroup.h"

#define PF_KSWAPD 0x00020000	/* include/linux/sched.h, unchanged since 2.6 */

/*
 * Count per memory cgroup id. User space deletes the entries of cgroups that are not (or no longer) a
 * container's: the kprobe HUATUO freed them from (mem_cgroup_css_released) is not available everywhere.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, u64);		/* memory cgroup id (inode of its directory) */
	__type(value, u64);		/* direct reclaims */
} memory_reclaim_count SEC(".maps");

/* The stalled task's memory cgroup: the one whose charge hit a limit here or above it. */
static __always_inline void on_memcg_reclaim(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	u64 one = 1, cgid, *count;

	/* kswapd balancing a node is background work, not a container's stall */
	if (BPF_CORE_READ(task, flags) & PF_KSWAPD)
		return;
	cgid = hb_task_cgroup_id(task, bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id));
	if (!cgid)
		return;
	count = bpf_map_lookup_elem(&memory_reclaim_count, &cgid);
	if (!count) {
		if (!bpf_map_update_elem(&memory_reclaim_count, &cgid, &one, BPF_NOEXIST))
			return;
		/* another CPU created it first */
		count = bpf_map_lookup_elem(&memory_reclaim_count, &cgid);
		if (!count)
			return;
	}
	__sync_fetch_and_add(count, 1);
}

SEC("tp_btf/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(memory_reclaim_btf_begin)
{
	on_memcg_reclaim();
	return 0;
}

SEC("raw_tp/mm_vmscan_memcg_reclaim_begin")
int BPF_PROG(memory_reclaim_raw_begin)
{
	on_memcg_reclaim();
	return 0;
}

SEC("tracepoint/vmscan/mm_vmscan_memcg_reclaim_begin")
int memory_reclaim_tp_begin(void *ctx)
{
	on_memcg_reclaim();
	return 0;
}

/* The function the tracepoint sits in. */
SEC("kprobe/try_to_free_mem_cgroup_pages")
int BPF_KPROBE(memory_reclaim_kp_begin)
{
	on_memcg_reclaim();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
