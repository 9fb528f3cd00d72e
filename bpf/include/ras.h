/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ras: a hardware-error tracepoint record, shared with src/events/ras.ts. The record is copied raw and
 * decoded in user space with the tracepoint's tracefs format, so field changes across kernels need no BPF change.
 */
#ifndef RAS_H
#define RAS_H

/* Bytes of the raw record copied: the fixed part and the __data_loc strings and buffers after it. */
#define RAS_RECORD_MAX 2048

/* the source tracepoint */
#define RAS_MCE		0	/* mce:mce_record */
#define RAS_EDAC	1	/* ras:mc_event */
#define RAS_ACPI	2	/* ras:non_standard_event (GHES) */
#define RAS_AER		3	/* ras:aer_event */
#define RAS_THR		4	/* irq_vectors:threshold_apic_entry */
#define RAS_ARM		5	/* ras:arm_event */

struct ras_event {
	__u64 ktime_ns;
	__u32 source;		/* RAS_* */
	__u32 cpu;
	__u8 record[RAS_RECORD_MAX];
};

#endif /* RAS_H */
