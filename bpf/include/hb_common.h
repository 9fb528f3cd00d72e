/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by every huatuo BPF program: ABI export for the decoder generator, lossy-output accounting, record strings. */
#ifndef HB_COMMON_H
#define HB_COMMON_H

/*
 * clang emits BTF only for types reachable from globals, so a struct shared with TypeScript is
 * pinned with an unused global pointer. scripts/gen-decoders.ts reads the struct's layout from BTF.
 */
#define HB_EXPORT_STRUCT(type) struct type *__hb_export_##type __attribute__((unused))

/*
 * A 64-bit field the generated TypeScript decodes as bigint (exact) instead of number (exact only
 * below 2^53): use it for kernel addresses and identifiers.
 */
typedef __u64 hb_u64_exact;

/*
 * A ring buffer paired with a per-CPU counter of records the kernel could not reserve; the native
 * reader reports "<name>_lost" next to the ring's records.
 */
#define HB_RINGBUF(name, bytes)							\
	struct {								\
		__uint(type, BPF_MAP_TYPE_RINGBUF);				\
		__uint(max_entries, bytes);					\
	} name SEC(".maps");							\
	struct {								\
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);			\
		__uint(max_entries, 1);						\
		__type(key, __u32);						\
		__type(value, __u64);						\
	} name##_lost SEC(".maps")

/* Copies a __data_loc string out of a classic tracepoint record: loc is its offset (low 16 bits) and length (high 16 bits). */
static __always_inline void hb_data_loc_str(void *record, __u32 loc, char *out, __u32 size)
{
	bpf_probe_read_kernel_str(out, size, record + (loc & 0xffff));
}

/* Count a record lost because the ring was full. */
#define HB_COUNT_LOST(name)							\
	({									\
		__u32 __zero = 0;						\
		__u64 *__lost = bpf_map_lookup_elem(&name##_lost, &__zero);	\
		if (__lost)							\
			(*__lost)++;						\
	})

#endif /* HB_COMMON_H */
