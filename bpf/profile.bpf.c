// SPDX-License-Identifier: GPL-2.0
/* profile: on-CPU sampling from a perf event on every CPU; stacks and counts aggregated in kernel. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hb_common.h"
#include "profile.h"

/* Set by the loader: sample only this process (0 = all) ... */
const volatile u32 filter_pid = 0;
/*
 * ... or only tasks whose cgroup id is a key of profile_cgroups. 1 = the task's cpu-controller cgroup
 * (cgroup v1 cpu hierarchy, or v2), 2 = its cgroup on the default (v2) hierarchy.
 */
const volatile u32 filter_cgroup_mode = 0;

/* errno values (vmlinux.h has no macros) */
#define EFAULT 14

#define CGROUP_BY_CPU_CONTROLLER 1
#define CGROUP_BY_DEFAULT_HIERARCHY 2

/* a stack hashing to a taken bucket is lost (counted): the map is sparse to keep that rare */
struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 32768);
	__uint(key_size, sizeof(u32));
	__uint(value_size, PROFILE_MAX_DEPTH * sizeof(u64));
} profile_stacks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct profile_key);
	__type(value, u64);		/* samples */
} profile_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, u64);		/* cgroup id: the inode of the cgroup directory */
	__type(value, u8);
} profile_cgroups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PROFILE_NR_STATS);
	__type(key, u32);
	__type(value, u64);
} profile_stats SEC(".maps");

HB_EXPORT_STRUCT(profile_key);

/* before 5.5 kernfs_node::id was a union of {ino, generation} and a u64 */
union kernfs_node_id___pre_5_5 {
	u64 id;
};

struct kernfs_node___pre_5_5 {
	union kernfs_node_id___pre_5_5 id;
} __attribute__((preserve_access_index));

/* The id of the task's cgroup in the cpu controller: the task group's cgroup (CONFIG_CGROUP_SCHED). */
static __always_inline u64 cpu_cgroup_id(struct task_struct *t)
{
	struct kernfs_node *kn;

	if (!bpf_core_field_exists(t->sched_task_group))
		return 0;
	kn = BPF_CORE_READ(t, sched_task_group, css.cgroup, kn);
	if (bpf_core_type_exists(union kernfs_node_id___pre_5_5))
		return BPF_CORE_READ((struct kernfs_node___pre_5_5 *)kn, id.id);
	return BPF_CORE_READ(kn, id);
}

static __always_inline bool wanted(u32 pid)
{
	u64 cgid;

	if (filter_pid && pid != filter_pid)
		return false;
	if (!filter_cgroup_mode)
		return true;
	if (filter_cgroup_mode == CGROUP_BY_CPU_CONTROLLER)
		cgid = cpu_cgroup_id((struct task_struct *)bpf_get_current_task());
	else
		cgid = bpf_get_current_cgroup_id();
	return bpf_map_lookup_elem(&profile_cgroups, &cgid) != NULL;
}

static __always_inline void stat_inc(u32 which)
{
	u64 *v = bpf_map_lookup_elem(&profile_stats, &which);

	if (v)
		(*v)++;
}

SEC("perf_event")
int profile_sample(struct bpf_perf_event_data *ctx)
{
	u64 id = bpf_get_current_pid_tgid();
	struct profile_key key = {};
	u64 one = 1, *count;

	/* the idle task: time no one used */
	if ((u32)id == 0)
		return 0;
	key.pid = id >> 32;
	if (!wanted(key.pid))
		return 0;
	stat_inc(PROFILE_SAMPLES);
	key.kstack_id = bpf_get_stackid(ctx, &profile_stacks, 0);
	key.ustack_id = bpf_get_stackid(ctx, &profile_stacks, BPF_F_USER_STACK);
	/*
	 * -EFAULT means "no such stack": none in the kernel when user code was interrupted, none in user
	 * space for kernel threads. Anything else is a loss (map full, hash collision).
	 */
	if ((key.kstack_id < 0 && key.kstack_id != -EFAULT) || (key.ustack_id < 0 && key.ustack_id != -EFAULT))
		stat_inc(PROFILE_STACK_MISSING);
	bpf_get_current_comm(key.comm, sizeof(key.comm));
	count = bpf_map_lookup_elem(&profile_counts, &key);
	if (count) {
		__sync_fetch_and_add(count, 1);
		return 0;
	}
	if (!bpf_map_update_elem(&profile_counts, &key, &one, BPF_NOEXIST))
		return 0;
	/* another CPU inserted the same key meanwhile, or the map is full */
	count = bpf_map_lookup_elem(&profile_counts, &key);
	if (count)
		__sync_fetch_and_add(count, 1);
	else
		stat_inc(PROFILE_KEY_DROPPED);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
