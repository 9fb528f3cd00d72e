/* SPDX-License-Identifier: GPL-2.0 */
/* The irq:softirq_raise and irq:softirq_entry hooks of softirq.bpf.c (metrics) and softirq_tracing.bpf.c (events). */
#ifndef HB_SOFTIRQ_H
#define HB_SOFTIRQ_H

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/*
 * Both tracers attach the same tracepoint variants under the same program names, which their loaders look up:
 * softirq_{btf,raw,tp}_{raise,entry}. Only what runs differs, so a macro generates the six entry points around
 * the including file's on_raise(vec) and on_entry(ctx, vec), keeping the names, sections and argument unpacking
 * in one place. BTF-typed tracepoints need 5.5+ with kernel BTF, raw ones 4.17+; the classic record has vec too.
 */
#define HB_SOFTIRQ_TRACEPOINTS(on_raise, on_entry)				\
	SEC("tp_btf/softirq_raise")						\
	int BPF_PROG(softirq_btf_raise, unsigned int vec)			\
	{									\
		on_raise(vec);							\
		return 0;							\
	}									\
	SEC("tp_btf/softirq_entry")						\
	int BPF_PROG(softirq_btf_entry, unsigned int vec)			\
	{									\
		on_entry(ctx, vec);						\
		return 0;							\
	}									\
	SEC("raw_tp/softirq_raise")						\
	int BPF_PROG(softirq_raw_raise, unsigned int vec)			\
	{									\
		on_raise(vec);							\
		return 0;							\
	}									\
	SEC("raw_tp/softirq_entry")						\
	int BPF_PROG(softirq_raw_entry, unsigned int vec)			\
	{									\
		on_entry(ctx, vec);						\
		return 0;							\
	}									\
	SEC("tracepoint/irq/softirq_raise")					\
	int softirq_tp_raise(struct trace_event_raw_softirq *ctx)		\
	{									\
		on_raise(ctx->vec);						\
		return 0;							\
	}									\
	SEC("tracepoint/irq/softirq_entry")					\
	int softirq_tp_entry(struct trace_event_raw_softirq *ctx)		\
	{									\
		on_entry(ctx, ctx->vec);					\
		return 0;							\
	}

#endif /* HB_SOFTIRQ_H */
