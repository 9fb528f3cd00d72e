// SPDX-License-Identifier: GPL-2.0
/* oom: OOM kills seen at oom:mark_victim (or the oom_kill_process kprobe): victim, trigger, memory cgroups. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hb_events.h"
#include "oom.h"

const volatile bool use_perf = false;
/* Set by the loader: rss counters count pages, records report kB as the tracepoint does. */
const volatile u32 page_shift = 12;

HB_EVENT_CHANNEL(oom, 64 * 1024);
HB_EXPORT_STRUCT(oom_event);

/* indexes of mm->rss_stat, stable since 4.5 (vmlinux.h has them in an anonymous enum) */
#define RSS_FILE	0
#define RSS_ANON	1
#define RSS_SHMEM	3

/* before 6.2 the rss counters were atomics in struct mm_rss_stat, since then percpu_counters */
struct mm_rss_stat___pre_6_2 {
	atomic_long_t count[4];
} __attribute__((preserve_access_index));

struct mm_struct___pre_6_2 {
	struct mm_rss_stat___pre_6_2 rss_stat;
} __attribute__((preserve_access_index));

/* The counter without per-CPU deltas: what get_mm_counter() and the tracepoint report. */
static __always_inline u64 rss_pages(struct mm_struct *mm, int member)
{
	long v;

	if (bpf_core_type_exists(struct mm_rss_stat___pre_6_2))
		v = BPF_CORE_READ((struct mm_struct___pre_6_2 *)mm, rss_stat.count[member].counter);
	else
		v = BPF_CORE_READ(mm, rss_stat[member].count);
	return v > 0 ? v : 0;
}

static __always_inline void fill_victim_mem(struct oom_event *e, struct mm_struct *mm)
{
	u32 shift = page_shift > 10 ? page_shift - 10 : 0;

	e->flags |= OOM_VICTIM_MEM;
	e->total_vm_kb = BPF_CORE_READ(mm, total_vm) << shift;
	e->anon_rss_kb = rss_pages(mm, RSS_ANON) << shift;
	e->file_rss_kb = rss_pages(mm, RSS_FILE) << shift;
	e->shmem_rss_kb = rss_pages(mm, RSS_SHMEM) << shift;
	if (bpf_core_field_exists(mm->pgtables_bytes))
		e->pgtables_kb = BPF_CORE_READ(mm, pgtables_bytes.counter) >> 10;
}

/* before 4.16 page_counter's usage and max were called count and limit */
struct page_counter___pre_4_16 {
	atomic_long_t count;
	unsigned long limit;
} __attribute__((preserve_access_index));

/* Usage and limit of the memory cgroup when the OOM killer chose, before the kill frees anything. */
static __always_inline void fill_memcg_usage(struct oom_event *e, struct cgroup_subsys_state *css)
{
	/* css is the first member of struct mem_cgroup */
	struct mem_cgroup *memcg = (struct mem_cgroup *)css;
	struct page_counter *pc = &memcg->memory;

	if (!css || !bpf_core_type_exists(struct mem_cgroup))
		return;
	e->flags |= OOM_MEMCG_USAGE;
	if (bpf_core_field_exists(pc->max)) {
		e->memcg_usage_pages = BPF_CORE_READ(pc, usage.counter);
		e->memcg_limit_pages = BPF_CORE_READ(pc, max);
	} else {
		struct page_counter___pre_4_16 *old = (void *)pc;

		e->memcg_usage_pages = BPF_CORE_READ(old, count.counter);
		e->memcg_limit_pages = BPF_CORE_READ(old, limit);
	}
}

static __always_inline void fill_victim(struct oom_event *e, struct task_struct *t)
{
	struct cgroup_subsys_state *css = hb_task_memcg_css(t);
	struct mm_struct *mm = BPF_CORE_READ(t, mm);

	e->flags |= OOM_VICTIM_TASK;
	e->victim_pid = BPF_CORE_READ(t, pid);
	e->victim_tgid = BPF_CORE_READ(t, tgid);
	e->victim_uid = BPF_CORE_READ(t, real_cred, uid.val);
	e->victim_memcg_css = (u64)css;
	e->victim_memcg_id = hb_css_cgroup_id(css);
	e->oom_score_adj = BPF_CORE_READ(t, signal, oom_score_adj);
	BPF_CORE_READ_STR_INTO(&e->victim_comm, t, comm);
	fill_memcg_usage(e, css);
	if (mm)
		fill_victim_mem(e, mm);
}

/* The trigger is the task running the OOM killer: the allocating task (or a kworker for sysrq-f). */
static __always_inline void fill_trigger(struct oom_event *e)
{
	struct task_struct *cur = (struct task_struct *)bpf_get_current_task();
	struct cgroup_subsys_state *css = hb_task_memcg_css(cur);
	u64 id = bpf_get_current_pid_tgid();

	e->trigger_pid = (u32)id;
	e->trigger_tgid = id >> 32;
	e->trigger_memcg_css = (u64)css;
	e->trigger_memcg_id = hb_css_cgroup_id(css);
	bpf_get_current_comm(e->trigger_comm, sizeof(e->trigger_comm));
}

static __always_inline void emit_task(void *ctx, struct task_struct *victim)
{
	struct oom_event e = {};

	fill_victim(&e, victim);
	fill_trigger(&e);
	HB_EVENT_OUTPUT(oom, ctx, &e, sizeof(e));
}

/* Variants 1 and 2 (6.8+, where mark_victim passes the task): BTF-typed, then raw tracepoint. */
HB_TASK_TRACEPOINT(oom_btf_mark_victim, oom_raw_mark_victim, "mark_victim", emit_task)

/*
 * Variant 3: the classic tracepoint's record. Before 6.8 it holds only the victim's pid; since, also
 * comm (a __data_loc string), the memory figures, uid and oom_score_adj. No victim memcg here.
 */
SEC("tracepoint/oom/mark_victim")
int oom_tp_mark_victim(struct trace_event_raw_mark_victim *ctx)
{
	struct oom_event e = {};

	e.victim_pid = ctx->pid;
	if (bpf_core_field_exists(ctx->total_vm)) {
		e.flags |= OOM_VICTIM_MEM;
		e.total_vm_kb = ctx->total_vm;
		e.anon_rss_kb = ctx->anon_rss;
		e.file_rss_kb = ctx->file_rss;
		e.shmem_rss_kb = ctx->shmem_rss;
		e.pgtables_kb = ctx->pgtables;
		e.victim_uid = ctx->uid;
		e.oom_score_adj = ctx->oom_score_adj;
	}
	if (bpf_core_field_exists(ctx->__data_loc_comm))
		hb_data_loc_str(ctx, ctx->__data_loc_comm, e.victim_comm, sizeof(e.victim_comm));
	fill_trigger(&e);
	HB_EVENT_OUTPUT(oom, ctx, &e, sizeof(e));
	return 0;
}

/* Variant 4: kernels without the tracepoint; oom_control::chosen is the victim. */
SEC("kprobe/oom_kill_process")
int BPF_KPROBE(oom_kp_kill_process, struct oom_control *oc)
{
	struct task_struct *victim = BPF_CORE_READ(oc, chosen);

	if (victim)
		emit_task(ctx, victim);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
