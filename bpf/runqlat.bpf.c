// SPDX-License-Identifier: GPL-2.0
/* runqlat: run-queue latency (wakeup or preemption until on CPU), aggregated in kernel per CPU, host and per cgroup. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hb_common.h"
#include "runqlat.h"

#define NSEC_PER_MSEC 1000000ULL

/* Set by the loader: also aggregate per cpu-controller cgroup (container series). */
const volatile bool per_cgroup = false;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, u32);		/* thread id */
	__type(value, u64);		/* enqueue time, ns */
} runqlat_start SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct runqlat_hist);
} runqlat_host SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, u64);		/* cgroup id (kernfs node id = inode of the cgroup directory) */
	__type(value, struct runqlat_hist);
} runqlat_cgroup SEC(".maps");

HB_EXPORT_STRUCT(runqlat_hist);

/* task_struct::state became __state in 5.14 */
struct task_struct___pre_5_14 {
	long state;
} __attribute__((preserve_access_index));

/* before 5.5 kernfs_node::id was a union of {ino, generation} and a u64 */
union kernfs_node_id___pre_5_5 {
	u64 id;
};

struct kernfs_node___pre_5_5 {
	union kernfs_node_id___pre_5_5 id;
} __attribute__((preserve_access_index));

/*
 * Task fields are read one of two ways, picked at compile time by a constant `btf` argument: tp_btf arguments are
 * BTF-typed pointers the verifier lets us dereference (each load becomes an inline faulting load), while raw_tp and
 * kprobe arguments are plain integers that must go through bpf_probe_read_kernel, a helper call per field.
 */
static __always_inline long task_state(struct task_struct *t, bool btf)
{
	if (bpf_core_field_exists(t->__state))
		return btf ? t->__state : BPF_CORE_READ(t, __state);
	if (btf)
		return ((struct task_struct___pre_5_14 *)t)->state;
	return BPF_CORE_READ((struct task_struct___pre_5_14 *)t, state);
}

static __always_inline u32 task_pid(struct task_struct *t, bool btf)
{
	return btf ? t->pid : BPF_CORE_READ(t, pid);
}

/* Id of the task's cgroup in the cpu controller (cgroup v1 cpu hierarchy, or the v2 cgroup). */
static __always_inline u64 task_cgroup_id(struct task_struct *t, bool btf)
{
	struct kernfs_node *kn;

	if (!bpf_core_field_exists(t->sched_task_group))
		return 0;
	if (btf) {
		/* as through probes, a NULL link reads as 0 (a faulting load zeroes its register); id 0 is no container, pruned */
		kn = t->sched_task_group->css.cgroup->kn;
		if (bpf_core_type_exists(union kernfs_node_id___pre_5_5))
			return ((struct kernfs_node___pre_5_5 *)kn)->id.id;
		return kn->id;
	}
	kn = BPF_CORE_READ(t, sched_task_group, css.cgroup, kn);
	if (bpf_core_type_exists(union kernfs_node_id___pre_5_5))
		return BPF_CORE_READ((struct kernfs_node___pre_5_5 *)kn, id.id);
	return BPF_CORE_READ(kn, id);
}

static __always_inline void enqueue(u32 pid)
{
	u64 now;

	if (!pid)	/* the idle task is never queued */
		return;
	now = bpf_ktime_get_ns();
	bpf_map_update_elem(&runqlat_start, &pid, &now, BPF_ANY);
}

/* Where one latency lands, computed once per event and applied to the host and the cgroup histogram. */
struct rq_bucket {
	/* 64-bit indexes: a u32 is re-truncated after its bounds check and the verifier loses the bound */
	u64 zone;
	u64 slot;
};

static __always_inline struct rq_bucket bucket_of(u64 delta_ns)
{
	struct rq_bucket b;

	b.slot = hb_hist_slot(delta_ns);
	if (delta_ns < 10 * NSEC_PER_MSEC)
		b.zone = 0;
	else if (delta_ns < 20 * NSEC_PER_MSEC)
		b.zone = 1;
	else if (delta_ns < 50 * NSEC_PER_MSEC)
		b.zone = 2;
	else
		b.zone = 3;
	return b;
}

static __always_inline void account(struct runqlat_hist *h, struct rq_bucket b, u64 delta_ns)
{
	/* per-CPU values: plain increments, no atomics needed */
	h->zones[b.zone]++;
	h->slots[b.slot]++;
	h->count++;
	h->sum_ns += delta_ns;
}

static __always_inline void account_cgroup(u64 cgid, struct rq_bucket b, u64 delta_ns)
{
	static const struct runqlat_hist zero;
	struct runqlat_hist *h;

	h = bpf_map_lookup_elem(&runqlat_cgroup, &cgid);
	if (!h) {
		/* first event of this cgroup since user space last pruned it: rare, so the second lookup is too */
		bpf_map_update_elem(&runqlat_cgroup, &cgid, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&runqlat_cgroup, &cgid);
		if (!h)
			return;
	}
	account(h, b, delta_ns);
}

/* next is about to run: its wait since enqueue is the run-queue latency. t is next's task_struct or NULL. */
static __always_inline void dequeue(u32 pid, struct task_struct *t, bool btf)
{
	u32 zero = 0;
	struct runqlat_hist *h;
	struct rq_bucket b;
	u64 *start, delta;

	start = bpf_map_lookup_elem(&runqlat_start, &pid);
	if (!start)
		return;
	delta = bpf_ktime_get_ns() - *start;
	bpf_map_delete_elem(&runqlat_start, &pid);
	b = bucket_of(delta);
	h = bpf_map_lookup_elem(&runqlat_host, &zero);
	if (h)
		account(h, b, delta);
	if (per_cgroup && t)
		account_cgroup(task_cgroup_id(t, btf), b, delta);
}

/* An exiting task may still have an entry (woken while running, then exited): free it for pid reuse. */
static __always_inline void forget(u32 pid)
{
	bpf_map_delete_elem(&runqlat_start, &pid);
}

/* A context switch seen through task pointers (BTF, raw tracepoint and kprobe variants). */
static __always_inline void on_switch(struct task_struct *prev, struct task_struct *next, bool btf)
{
	/* a preempted task goes straight back to the run queue */
	if (task_state(prev, btf) == 0)
		enqueue(task_pid(prev, btf));
	dequeue(task_pid(next, btf), next, btf);
}

/*
 * Variants 1 and 2: BTF-typed tracepoints (5.5+ with kernel BTF) and raw tracepoints (4.17+). Both pass the same
 * arguments and run the same bodies, differing only in how task fields are read (btf), so one macro generates both
 * sets and they cannot drift apart: runqlat_{btf,raw}_{wakeup,wakeup_new,switch,exit}.
 */
#define RUNQLAT_TASK_VARIANT(prefix, section, btf)						\
	SEC(section "/sched_wakeup")								\
	int BPF_PROG(runqlat_##prefix##_wakeup, struct task_struct *p)				\
	{											\
		enqueue(task_pid(p, btf));							\
		return 0;									\
	}											\
	SEC(section "/sched_wakeup_new")							\
	int BPF_PROG(runqlat_##prefix##_wakeup_new, struct task_struct *p)			\
	{											\
		enqueue(task_pid(p, btf));							\
		return 0;									\
	}											\
	SEC(section "/sched_switch")								\
	int BPF_PROG(runqlat_##prefix##_switch, bool preempt, struct task_struct *prev,		\
		     struct task_struct *next)							\
	{											\
		on_switch(prev, next, btf);							\
		return 0;									\
	}											\
	SEC(section "/sched_process_exit")							\
	int BPF_PROG(runqlat_##prefix##_exit, struct task_struct *p)				\
	{											\
		forget(task_pid(p, btf));							\
		return 0;									\
	}

RUNQLAT_TASK_VARIANT(btf, "tp_btf", true)
RUNQLAT_TASK_VARIANT(raw, "raw_tp", false)

/*
 * Variant 3: classic tracepoints, whose records carry pids only: no per-cgroup series. prev_state
 * reports a preempted task as TASK_REPORT_MAX (4.14+) or TASK_STATE_MAX (older), both above the
 * low byte where the sleeping states live, so "no bit in the low byte" means runnable.
 */
SEC("tracepoint/sched/sched_wakeup")
int runqlat_tp_wakeup(struct trace_event_raw_sched_wakeup_template *ctx)
{
	enqueue(ctx->pid);
	return 0;
}

SEC("tracepoint/sched/sched_wakeup_new")
int runqlat_tp_wakeup_new(struct trace_event_raw_sched_wakeup_template *ctx)
{
	enqueue(ctx->pid);
	return 0;
}

SEC("tracepoint/sched/sched_switch")
int runqlat_tp_switch(struct trace_event_raw_sched_switch *ctx)
{
	if (!(ctx->prev_state & 0xff))
		enqueue(ctx->prev_pid);
	dequeue(ctx->next_pid, NULL, false);
	return 0;
}

SEC("tracepoint/sched/sched_process_exit")
int runqlat_tp_exit(struct trace_event_raw_sched_process_template *ctx)
{
	forget(ctx->pid);
	return 0;
}

/* Variant 4: kprobes, for kernels without these tracepoints; finish_task_switch runs as next. */
SEC("kprobe/try_to_wake_up")
int BPF_KPROBE(runqlat_kp_wakeup, struct task_struct *p)
{
	enqueue(task_pid(p, false));
	return 0;
}

SEC("kprobe/wake_up_new_task")
int BPF_KPROBE(runqlat_kp_wakeup_new, struct task_struct *p)
{
	enqueue(task_pid(p, false));
	return 0;
}

SEC("kprobe/finish_task_switch")
int BPF_KPROBE(runqlat_kp_switch, struct task_struct *prev)
{
	on_switch(prev, (struct task_struct *)bpf_get_current_task(), false);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
