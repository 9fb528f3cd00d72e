/* SPDX-License-Identifier: GPL-2.0 */
/* Event tracers' output channel (hb_channel.h), task → memory cgroup via CO-RE, task tracepoint pairs. */
#ifndef HB_EVENTS_H
#define HB_EVENTS_H

#include <bpf/bpf_core_read.h>

#include "hb_channel.h"

/* before 5.5 kernfs_node::id was a union of {ino, generation} and a u64 */
union kernfs_node_id___pre_5_5 {
	__u64 id;
};

struct kernfs_node___pre_5_5 {
	union kernfs_node_id___pre_5_5 id;
} __attribute__((preserve_access_index));

/* The memory controller's css of a task: its v1 memory cgroup, or its v2 cgroup. NULL without CONFIG_MEMCG. */
static __always_inline struct cgroup_subsys_state *hb_task_memcg_css(struct task_struct *t)
{
	int id;

	if (!bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		return NULL;
	id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	if (id < 0 || id >= CGROUP_SUBSYS_COUNT)
		return NULL;
	return BPF_CORE_READ(t, cgroups, subsys[id]);
}

/* The kernfs id of a css's cgroup: the inode number of its directory in the hierarchy. */
static __always_inline __u64 hb_css_cgroup_id(struct cgroup_subsys_state *css)
{
	struct kernfs_node *kn;

	if (!css)
		return 0;
	kn = BPF_CORE_READ(css, cgroup, kn);
	if (bpf_core_type_exists(union kernfs_node_id___pre_5_5))
		return BPF_CORE_READ((struct kernfs_node___pre_5_5 *)kn, id.id);
	return BPF_CORE_READ(kn, id);
}

/*
 * A tracepoint whose first argument is a task, attached BTF-typed (5.5+ with kernel BTF) or raw (4.17+): both
 * programs run the including file's emit(ctx, task) and differ only in section and name, so a macro generates the pair.
 */
#define HB_TASK_TRACEPOINT(btf_name, raw_name, tp, emit)			\
	SEC("tp_btf/" tp)							\
	int BPF_PROG(btf_name, struct task_struct *task)			\
	{									\
		emit(ctx, task);						\
		return 0;							\
	}									\
	SEC("raw_tp/" tp)							\
	int BPF_PROG(raw_name, struct task_struct *task)			\
	{									\
		emit(ctx, task);						\
		return 0;							\
	}

#endif /* HB_EVENTS_H */
