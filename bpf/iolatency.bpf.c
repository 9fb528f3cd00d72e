// SPDX-License-Identifier: GPL-2.0
/* iolatency: q2c and d2c latency of block requests per disk and per blkio cgroup, queue freezes; aggregated in kernel. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hb_common.h"
#include "hb_cgroup.h"
#include "iolatency.h"

#define NSEC_PER_MSEC 1000000ULL
#define MINORBITS 20		/* the kernel's dev_t: major << 20 | minor */

struct inflight {
	u64 queued_ns;
	u64 issued_ns;
	u64 cgroup;
	u32 dev;
	u32 __pad;
};

/* Dispatched requests by request address (or dev and sector for classic tracepoints); LRU drops lost ones. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, u64);
	__type(value, struct inflight);
} iolat_inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 256);
	__type(key, u32);		/* dev_t of the disk */
	__type(value, struct iolat_disk);
} iolat_disks SEC(".maps");

/* User space deletes the entries of cgroups that are no container's, or no longer exist. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct iolat_cgroup_key);
	__type(value, struct iolat_cgroup);
} iolat_cgroups SEC(".maps");

HB_EXPORT_STRUCT(iolat_disk);
HB_EXPORT_STRUCT(iolat_cgroup_key);
HB_EXPORT_STRUCT(iolat_cgroup);

/* request::rq_disk was replaced by request_queue::disk in 5.17 */
struct request___pre_5_17 {
	struct gendisk *rq_disk;
} __attribute__((preserve_access_index));

static __always_inline u32 disk_dev(struct gendisk *disk)
{
	if (!disk)
		return 0;
	return (u32)BPF_CORE_READ(disk, major) << MINORBITS | BPF_CORE_READ(disk, first_minor);
}

static __always_inline u32 rq_dev(struct request *rq)
{
	struct request___pre_5_17 *old = (void *)rq;

	if (bpf_core_field_exists(old->rq_disk))
		return disk_dev(BPF_CORE_READ(old, rq_disk));
	return disk_dev(BPF_CORE_READ(rq, q, disk));
}

static __always_inline u64 current_io_cgroup(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return hb_task_cgroup_id(task, bpf_core_enum_value(enum cgroup_subsys_id, io_cgrp_id));
}

/* The cgroup the request's I/O is charged to (right for writeback too), else the issuing task's. */
static __always_inline u64 rq_cgroup(struct request *rq)
{
	struct blkcg_gq *blkg = NULL;

	if (bpf_core_field_exists(((struct bio *)0)->bi_blkg))
		blkg = BPF_CORE_READ(rq, bio, bi_blkg);
	if (!blkg)
		return current_io_cgroup();
	return hb_cgroup_id(BPF_CORE_READ(blkg, blkcg, css.cgroup));
}

/* (20,30] (30,50] (50,100] (100,200] (200,400] (400,inf) ms; -1 below */
static __always_inline int zone_of(u64 ns)
{
	if (ns <= 20 * NSEC_PER_MSEC)
		return -1;
	if (ns <= 30 * NSEC_PER_MSEC)
		return 0;
	if (ns <= 50 * NSEC_PER_MSEC)
		return 1;
	if (ns <= 100 * NSEC_PER_MSEC)
		return 2;
	if (ns <= 200 * NSEC_PER_MSEC)
		return 3;
	return ns <= 400 * NSEC_PER_MSEC ? 4 : 5;
}

static __always_inline void *lookup_or_init(void *map, const void *key, const void *zero)
{
	void *value = bpf_map_lookup_elem(map, key);

	if (value)
		return value;
	bpf_map_update_elem(map, key, zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

/* queued_ns: when the request was allocated, 0 when unknown (then q2c counts from dispatch). */
static __always_inline void on_issue(u64 key, u32 dev, u64 queued_ns, u64 cgroup)
{
	struct inflight v = { .issued_ns = bpf_ktime_get_ns(), .cgroup = cgroup, .dev = dev };

	if (!dev)
		return;
	v.queued_ns = queued_ns && queued_ns <= v.issued_ns ? queued_ns : v.issued_ns;
	bpf_map_update_elem(&iolat_inflight, &key, &v, BPF_ANY);
}

static __always_inline void account_cgroup(const struct inflight *v, int q2c_zone, int d2c_zone)
{
	static const struct iolat_cgroup zero;
	struct iolat_cgroup_key key = { .cgroup = v->cgroup, .dev = v->dev };
	struct iolat_cgroup *c;

	if (!v->cgroup || (q2c_zone < 0 && d2c_zone < 0))
		return;
	c = lookup_or_init(&iolat_cgroups, &key, &zero);
	if (!c)
		return;
	if (q2c_zone >= 0 && q2c_zone < IOLAT_ZONES)
		c->q2c_zones[q2c_zone]++;
	if (d2c_zone >= 0 && d2c_zone < IOLAT_ZONES)
		c->d2c_zones[d2c_zone]++;
}

static __always_inline void on_complete(u64 key)
{
	static const struct iolat_disk zero;
	struct inflight *found, v;
	struct iolat_disk *d;
	u64 now, q2c, d2c;
	int qz, dz;

	found = bpf_map_lookup_elem(&iolat_inflight, &key);
	if (!found)
		return;
	v = *found;
	bpf_map_delete_elem(&iolat_inflight, &key);
	now = bpf_ktime_get_ns();
	q2c = now - v.queued_ns;
	d2c = now - v.issued_ns;
	qz = zone_of(q2c);
	dz = zone_of(d2c);
	d = lookup_or_init(&iolat_disks, &v.dev, &zero);
	if (d) {
		if (qz >= 0 && qz < IOLAT_ZONES)
			d->q2c_zones[qz]++;
		if (dz >= 0 && dz < IOLAT_ZONES)
			d->d2c_zones[dz]++;
		hb_hist_add(&d->q2c, q2c);
		hb_hist_add(&d->d2c, d2c);
	}
	account_cgroup(&v, qz, dz);
}

/* Issue and completion seen through the request (BTF, raw tracepoint and kprobe variants). */
static __always_inline void rq_issue(struct request *rq)
{
	u64 queued = 0;

	if (bpf_core_field_exists(rq->start_time_ns))
		queued = BPF_CORE_READ(rq, start_time_ns);
	on_issue((u64)rq, rq_dev(rq), queued, rq_cgroup(rq));
}

static __always_inline void on_freeze(struct request_queue *q)
{
	static const struct iolat_disk zero;
	u32 dev = disk_dev(BPF_CORE_READ(q, disk));
	struct iolat_disk *d;

	if (!dev)
		return;
	d = lookup_or_init(&iolat_disks, &dev, &zero);
	if (d)
		d->freeze++;
}

/*
 * Variants 1, 2 and 4 see the request itself and run the same bodies; they differ only in section, name and
 * argument unpacking (BPF_PROG or BPF_KPROBE, passed as wrap), so one macro generates each issue/complete pair.
 */
#define IOLAT_RQ_HOOKS(wrap, prefix, issue_section, complete_section)		\
	SEC(issue_section)							\
	int wrap(iolat_##prefix##_issue, struct request *rq)			\
	{									\
		rq_issue(rq);							\
		return 0;							\
	}									\
	SEC(complete_section)							\
	int wrap(iolat_##prefix##_complete, struct request *rq)			\
	{									\
		on_complete((u64)rq);						\
		return 0;							\
	}

/* Variant 1: BTF-typed tracepoints (5.5+ with kernel BTF). */
IOLAT_RQ_HOOKS(BPF_PROG, btf, "tp_btf/block_rq_issue", "tp_btf/block_rq_complete")

/* Variant 2: raw tracepoints (4.17+). */
IOLAT_RQ_HOOKS(BPF_PROG, raw, "raw_tp/block_rq_issue", "raw_tp/block_rq_complete")

/*
 * Variant 3: classic tracepoints carry no request pointer: requests are matched by disk and sector, the
 * cgroup is the issuing task's, and q2c counts from dispatch (equal to d2c).
 */
static __always_inline u64 sector_key(u32 dev, u64 sector)
{
	return (u64)dev << 44 ^ sector;
}

SEC("tracepoint/block/block_rq_issue")
int iolat_tp_issue(struct trace_event_raw_block_rq *ctx)
{
	on_issue(sector_key(ctx->dev, ctx->sector), ctx->dev, 0, current_io_cgroup());
	return 0;
}

SEC("tracepoint/block/block_rq_complete")
int iolat_tp_complete(struct trace_event_raw_block_rq_completion *ctx)
{
	on_complete(sector_key(ctx->dev, ctx->sector));
	return 0;
}

/* Variant 4: kprobes where the tracepoints sit (blk_update_request misses batched completions). */
IOLAT_RQ_HOOKS(BPF_KPROBE, kp, "kprobe/blk_mq_start_request", "kprobe/blk_update_request")

/* Queue freezes have no tracepoint; blk_freeze_queue_start begins every freeze (blk_mq_freeze_queue*). */
SEC("kprobe/blk_freeze_queue_start")
int BPF_KPROBE(iolat_kp_freeze, struct request_queue *q)
{
	on_freeze(q);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
