/* SPDX-License-Identifier: GPL-2.0 */
/* The output channel of every event tracer, system and network alike: ring buffer, or perf buffer before 5.8. */
#ifndef HB_CHANNEL_H
#define HB_CHANNEL_H

#include "hb_common.h"

/*
 * A ring buffer <name>_rb (with its lost counter) and a perf event array <name>_pb; the loader sets
 * use_perf and leaves the ring uncreated on kernels before 5.8, where the ring branch is dead code.
 */
#define HB_EVENT_CHANNEL(name, bytes)						\
	HB_RINGBUF(name##_rb, bytes);						\
	struct {								\
		__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);			\
		__uint(key_size, sizeof(__u32));				\
		__uint(value_size, sizeof(__u32));				\
	} name##_pb SEC(".maps")

/* Copies one event out; a full ring counts the record as lost. */
#define HB_EVENT_OUTPUT(name, ctx, data, size)					\
	({									\
		if (use_perf)							\
			bpf_perf_event_output(ctx, &name##_pb, BPF_F_CURRENT_CPU, data, size); \
		else if (bpf_ringbuf_output(&name##_rb, data, size, 0))	\
			HB_COUNT_LOST(name##_rb);				\
	})

#endif /* HB_CHANNEL_H */
