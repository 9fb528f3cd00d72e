// SPDX-License-Identifier: GPL-2.0
/*
 * softirq_tracing: how long a raised softirq waited before it ran on its CPU (irq:softirq_raise →
 * irq:softirq_entry). A softirq raised while bottom halves (or interrupts) are disabled runs when they
 * are enabled again, so the wait is the time softirqs were held off; at that moment the current task
 * and kernel stack name the code that re-enabled them.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hb_events.h"
#include "hb_softirq.h"
#include "softirq_tracing.h"

#define NSEC_PER_SEC 1000000000ULL

const volatile bool use_perf = false;
/* Per CPU and second, at most this many events; the rest are counted in softirq_cpu_state.suppressed. */
const volatile u32 max_per_sec = 16;

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct softirq_cpu_state);
} softirq_state SEC(".maps");

/* EventTracing.Softirq.DisabledThreshold in ns, written by user space after load and on reload; 0: not yet */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} softirq_threshold SEC(".maps");

/* the event with its stack is too large for the BPF stack */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct softirq_tracing_event);
} softirq_scratch SEC(".maps");

HB_EVENT_CHANNEL(softirq_tracing, 256 * 1024);
HB_EXPORT_STRUCT(softirq_tracing_event);
HB_EXPORT_STRUCT(softirq_cpu_state);

static __always_inline struct softirq_cpu_state *state(void)
{
	u32 zero = 0;

	return bpf_map_lookup_elem(&softirq_state, &zero);
}

static __always_inline u64 *raised_slot(u64 vec)
{
	struct softirq_cpu_state *s = state();

	/*
	 * Barriers keep the bounds check and the indexing on one register: otherwise clang checks a
	 * masked copy or computes the address first, and the verifier sees an unbounded index.
	 */
	asm volatile("" : "+r"(vec));
	if (!s || vec >= SOFTIRQ_MAX_VECS)
		return NULL;
	asm volatile("" : "+r"(vec));
	return &s->raised[vec];
}

static __always_inline void on_raise(u64 vec)
{
	u64 *raised = raised_slot(vec);

	/* a vector raised again while pending keeps its first time */
	if (raised && !*raised)
		*raised = bpf_ktime_get_ns();
}

/* ksoftirqd runs what was deferred to it, the idle task what arrived while idle: neither held anything off. */
static __always_inline bool noise(struct softirq_tracing_event *e)
{
	static const char ksoftirqd[] = "ksoftirqd/";
	int i;

	if (e->pid == 0)
		return true;
	for (i = 0; i < sizeof(ksoftirqd) - 1; i++) {
		if (e->comm[i] != ksoftirqd[i])
			return false;
	}
	return true;
}

static __always_inline bool rate_limited(struct softirq_cpu_state *s, u64 now)
{
	if (now - s->window_start >= NSEC_PER_SEC) {
		s->window_start = now;
		s->emitted = 0;
	}
	if (s->emitted >= max_per_sec) {
		s->suppressed++;
		return true;
	}
	s->emitted++;
	return false;
}

static __always_inline void on_entry(void *ctx, u64 vec)
{
	struct softirq_cpu_state *s = state();
	u64 *slot = raised_slot(vec);
	struct softirq_tracing_event *e;
	u64 now, raised, id, *threshold;
	u32 zero = 0;

	if (!s || !slot)
		return;
	raised = *slot;
	*slot = 0;
	now = bpf_ktime_get_ns();
	threshold = bpf_map_lookup_elem(&softirq_threshold, &zero);
	if (!raised || !threshold || !*threshold || now - raised <= *threshold)
		return;
	e = bpf_map_lookup_elem(&softirq_scratch, &zero);
	if (!e)
		return;
	id = bpf_get_current_pid_tgid();
	e->pid = (u32)id;
	e->tgid = id >> 32;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	if (noise(e) || rate_limited(s, now))
		return;
	e->offtime_ns = now - raised;
	e->threshold_ns = *threshold;
	e->now_ns = now;
	e->memcg_id = hb_css_cgroup_id(hb_task_memcg_css((struct task_struct *)bpf_get_current_task()));
	e->cpu = bpf_get_smp_processor_id();
	e->vec = vec;
	e->__pad = 0;
	e->stack_bytes = bpf_get_stack(ctx, e->stack, sizeof(e->stack), 0);
	HB_EVENT_OUTPUT(softirq_tracing, ctx, e, sizeof(*e));
}

HB_SOFTIRQ_TRACEPOINTS(on_raise, on_entry)

char LICENSE[] SEC("license") = "GPL";
