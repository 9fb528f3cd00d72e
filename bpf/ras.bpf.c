// SPDX-License-Identifier: GPL-2.0
/* ras: hardware errors from the MCE, EDAC, GHES, PCIe AER and MCE-threshold tracepoints, copied raw. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "hb_events.h"
#include "ras.h"

const volatile bool use_perf = false;

/* too large for the BPF stack */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct ras_event);
} ras_scratch SEC(".maps");

HB_EVENT_CHANNEL(ras, 256 * 1024);
HB_EXPORT_STRUCT(ras_event);

/*
 * A classic tracepoint's record sits at the start of a per-CPU perf trace buffer of 8 KiB
 * (PERF_MAX_TRACE_SIZE), so a fixed-size copy stays inside it; user space finds the record's
 * end from its format.
 */
static __always_inline int emit(void *ctx, u32 source)
{
	struct ras_event *e;
	u32 zero = 0;

	e = bpf_map_lookup_elem(&ras_scratch, &zero);
	if (!e)
		return 0;
	e->ktime_ns = bpf_ktime_get_ns();
	e->source = source;
	e->cpu = bpf_get_smp_processor_id();
	if (bpf_probe_read_kernel(e->record, sizeof(e->record), ctx))
		return 0;
	HB_EVENT_OUTPUT(ras, ctx, e, sizeof(*e));
	return 0;
}

SEC("tracepoint/mce/mce_record")
int ras_mce_record(void *ctx)
{
	return emit(ctx, RAS_MCE);
}

SEC("tracepoint/ras/mc_event")
int ras_mc_event(void *ctx)
{
	return emit(ctx, RAS_EDAC);
}

SEC("tracepoint/ras/non_standard_event")
int ras_non_standard_event(void *ctx)
{
	return emit(ctx, RAS_ACPI);
}

SEC("tracepoint/ras/aer_event")
int ras_aer_event(void *ctx)
{
	return emit(ctx, RAS_AER);
}

SEC("tracepoint/irq_vectors/threshold_apic_entry")
int ras_threshold_apic_entry(void *ctx)
{
	return emit(ctx, RAS_THR);
}

SEC("tracepoint/ras/arm_event")
int ras_arm_event(void *ctx)
{
	return emit(ctx, RAS_ARM);
}

char LICENSE[] SEC("license") = "GPL";
