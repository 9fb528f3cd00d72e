// SPDX-License-Identifier: GPL-2.0
/* softirq: latency from irq:softirq_raise to irq:softirq_entry of NET_TX and NET_RX, per CPU, aggregated in kernel. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hb_common.h"
#include "hb_softirq.h"
#include "softirq.h"

#define NSEC_PER_USEC 1000ULL

/* A softirq runs on the CPU that raised it (the pending bit is per CPU), so per-CPU slots need no locking. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, SOFTIRQ_TYPES);
	__type(key, u32);
	__type(value, struct softirq_lat);
} softirq_lat SEC(".maps");

HB_EXPORT_STRUCT(softirq_lat);

static __always_inline struct softirq_lat *lat_of(unsigned int vec)
{
	u32 key = vec - NET_TX_SOFTIRQ;

	/* only the network vectors: others return before any map access */
	if (vec != NET_TX_SOFTIRQ && vec != NET_RX_SOFTIRQ)
		return NULL;
	return bpf_map_lookup_elem(&softirq_lat, &key);
}

/* Only the first raise counts: raising a pending softirq again does not delay it further. */
static __always_inline void on_raise(unsigned int vec)
{
	struct softirq_lat *l = lat_of(vec);

	if (l && !l->raised_ns)
		l->raised_ns = bpf_ktime_get_ns();
}

/* ctx: unused here, passed by the shared hooks for tracers that output events */
static __always_inline void on_entry(void *ctx, unsigned int vec)
{
	struct softirq_lat *l = lat_of(vec);
	u64 delta;
	u32 zone;

	if (!l || !l->raised_ns)
		return;
	delta = bpf_ktime_get_ns() - l->raised_ns;
	l->raised_ns = 0;
	if (delta < 10 * NSEC_PER_USEC)
		zone = 0;
	else if (delta < 100 * NSEC_PER_USEC)
		zone = 1;
	else if (delta < 1000 * NSEC_PER_USEC)
		zone = 2;
	else
		zone = 3;
	l->zones[zone]++;
	hb_hist_add(&l->hist, delta);
}

/* Variants 1 to 3: BTF-typed, raw and classic tracepoints. */
HB_SOFTIRQ_TRACEPOINTS(on_raise, on_entry)

/*
 * Variant 4: kprobes. __raise_softirq_irqoff() is where the raise tracepoint sits; softirq handlers have no
 * common entry function with the vector, so this variant sees NET_RX only (its handler, net_rx_action).
 */
SEC("kprobe/__raise_softirq_irqoff")
int BPF_KPROBE(softirq_kp_raise, unsigned int nr)
{
	on_raise(nr);
	return 0;
}

SEC("kprobe/net_rx_action")
int BPF_KPROBE(softirq_kp_entry)
{
	on_entry(ctx, NET_RX_SOFTIRQ);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
