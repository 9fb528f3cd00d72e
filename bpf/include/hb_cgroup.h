/* SPDX-License-Identifier: GPL-2.0 */
/* Cgroup ids seen from BPF: the kernfs node id, which user space reads as the inode of the cgroup directory. */
#ifndef HB_CGROUP_H
#define HB_CGROUP_H

#include <bpf/bpf_core_read.h>

/* before 5.5 kernfs_node::id was a union of {ino, generation} and a u64 */
union kernfs_node_id___pre_5_5 {
	struct {
		u32 ino;
		u32 generation;
	};
	u64 id;
};

struct kernfs_node___pre_5_5 {
	union kernfs_node_id___pre_5_5 id;
} __attribute__((preserve_access_index));

/* On 64-bit hosts the kernfs id (5.5+) is the directory's inode number; before, id.ino is. */
static __always_inline u64 hb_cgroup_id(struct cgroup *cgrp)
{
	struct kernfs_node *kn = BPF_CORE_READ(cgrp, kn);

	if (bpf_core_type_exists(union kernfs_node_id___pre_5_5))
		return BPF_CORE_READ((struct kernfs_node___pre_5_5 *)kn, id.ino);
	return BPF_CORE_READ(kn, id);
}

/*
 * The current task's cgroup in one controller's hierarchy: the v1 hierarchy the controller is bound to,
 * or on v2 the nearest cgroup with the controller enabled. subsys is a CO-RE enum cgroup_subsys_id value.
 */
static __always_inline u64 hb_task_cgroup_id(struct task_struct *t, int subsys)
{
	struct cgroup_subsys_state *css;

	if (subsys < 0 || subsys >= CGROUP_SUBSYS_COUNT)
		return 0;
	css = BPF_CORE_READ(t, cgroups, subsys[subsys]);
	return css ? hb_cgroup_id(BPF_CORE_READ(css, cgroup)) : 0;
}

#endif /* HB_CGROUP_H */
