// SPDX-License-Identifier: GPL-2.0
/*
 * iotracing: which processes do block I/O (bytes and latency per process and disk) and where tasks block in D
 * state, from stable tracepoints only. The original uses kprobes on rq_qos_issue/done, the ext4/xfs read/write_iter
 * functions and io_schedule; block:block_bio_queue runs in the submitter's context, block_rq_issue/complete bound
 * the request, and sched:sched_switch with prev_state D takes the blocked task's stack.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "hb_common.h"
#include "iotracing.h"

/* Set by the loader: a D-state stretch shorter than this is not recorded. */
const volatile u64 min_block_ns = 100000000;

/*
 * The leading fields of the block tracepoint records, the same since they were added (format files: dev at 8,
 * sector at 16, nr_sector at 24, then rwbs for block_bio_queue). Newer fields (ioprio, 6.x) come after them, so
 * these are declared by hand rather than relocated against an event class whose name changed across versions.
 */
struct block_record {
	u64 common;
	u32 dev;
	u32 pad;
	u64 sector;
	u32 nr_sector;
	char rwbs[8];
};

/* TASK_UNINTERRUPTIBLE in the low byte of the tracepoint's prev_state (4.14+ report encoding). */
#define REPORT_D 0x2

/*
 * A request is found again by its disk's major and first sector: block_bio_queue names a partition's device while
 * block_rq_issue/complete name the whole disk, with the sector already remapped in both.
 */
struct inflight_key {
	u32 major;
	u32 pad;
	u64 sector;
};

#define DEV_MAJOR(dev) ((dev) >> 20)

struct inflight {
	u64 queued_ns;
	u64 issued_ns;
	struct io_key owner;
};

struct blocked_start {
	u64 ns;
	s32 stack_id;
	u32 tgid;
	char comm[IOTRACING_COMM_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct io_key);
	__type(value, struct io_value);
} io_stats SEC(".maps");

/* merged bios never complete under their own sector: LRU lets them age out */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct inflight_key);
	__type(value, struct inflight);
} io_inflight SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, u32);		/* thread id */
	__type(value, struct blocked_start);
} blocked_since SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct blocked_key);
	__type(value, struct blocked_value);
} io_blocked SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 4096);
	__uint(key_size, sizeof(u32));
	__uint(value_size, IOTRACING_MAX_DEPTH * sizeof(u64));
} io_stacks SEC(".maps");

HB_EXPORT_STRUCT(io_key);
HB_EXPORT_STRUCT(io_value);
HB_EXPORT_STRUCT(blocked_key);
HB_EXPORT_STRUCT(blocked_value);

static __always_inline struct io_value *stats_of(struct io_key *key)
{
	static const struct io_value zero;
	struct io_value *v = bpf_map_lookup_elem(&io_stats, key);

	if (v)
		return v;
	bpf_map_update_elem(&io_stats, key, &zero, BPF_NOEXIST);
	v = bpf_map_lookup_elem(&io_stats, key);
	if (v)
		bpf_get_current_comm(v->comm, sizeof(v->comm));
	return v;
}

/* rwbs starts with F for a preflush, then R, W, D (discard) or N. */
static __always_inline char direction(const char *rwbs)
{
	return rwbs[0] == 'F' ? rwbs[1] : rwbs[0];
}

SEC("tracepoint/block/block_bio_queue")
int iotracing_bio_queue(struct block_record *ctx)
{
	struct inflight_key ik = { .major = DEV_MAJOR(ctx->dev), .sector = ctx->sector };
	struct io_key key = { .pid = bpf_get_current_pid_tgid() >> 32, .dev = ctx->dev };
	u64 bytes = (u64)ctx->nr_sector << 9;
	char dir = direction(ctx->rwbs);
	struct inflight in = {};
	struct io_value *v;

	if (dir != 'R' && dir != 'W')
		return 0;
	v = stats_of(&key);
	if (!v)
		return 0;
	if (dir == 'R') {
		__sync_fetch_and_add(&v->read_bytes, bytes);
		__sync_fetch_and_add(&v->read_ios, 1);
	} else {
		__sync_fetch_and_add(&v->write_bytes, bytes);
		__sync_fetch_and_add(&v->write_ios, 1);
	}
	in.queued_ns = bpf_ktime_get_ns();
	in.owner = key;
	bpf_map_update_elem(&io_inflight, &ik, &in, BPF_ANY);
	return 0;
}

SEC("tracepoint/block/block_rq_issue")
int iotracing_rq_issue(struct block_record *ctx)
{
	struct inflight_key ik = { .major = DEV_MAJOR(ctx->dev), .sector = ctx->sector };
	struct inflight *in = bpf_map_lookup_elem(&io_inflight, &ik);

	if (in)
		in->issued_ns = bpf_ktime_get_ns();
	return 0;
}

static __always_inline void max_into(u64 *slot, u64 v)
{
	if (v > *slot)
		*slot = v;	/* racy across CPUs, but a lost maximum is only a slightly low figure */
}

SEC("tracepoint/block/block_rq_complete")
int iotracing_rq_complete(struct block_record *ctx)
{
	struct inflight_key ik = { .major = DEV_MAJOR(ctx->dev), .sector = ctx->sector };
	struct inflight *in = bpf_map_lookup_elem(&io_inflight, &ik);
	u64 now = bpf_ktime_get_ns(), q2c, d2c;
	struct io_value *v;

	if (!in)
		return 0;
	v = bpf_map_lookup_elem(&io_stats, &in->owner);
	if (v) {
		q2c = now - in->queued_ns;
		d2c = in->issued_ns ? now - in->issued_ns : 0;
		__sync_fetch_and_add(&v->completed, 1);
		__sync_fetch_and_add(&v->q2c_ns, q2c);
		__sync_fetch_and_add(&v->d2c_ns, d2c);
		max_into(&v->q2c_max_ns, q2c);
		max_into(&v->d2c_max_ns, d2c);
	}
	bpf_map_delete_elem(&io_inflight, &ik);
	return 0;
}

/* The task leaving the CPU is current: its stack is where it blocked. */
static __always_inline void block_start(u32 tid, void *ctx)
{
	struct blocked_start s = { .ns = bpf_ktime_get_ns() };

	s.stack_id = bpf_get_stackid(ctx, &io_stacks, 0);
	s.tgid = bpf_get_current_pid_tgid() >> 32;
	bpf_get_current_comm(s.comm, sizeof(s.comm));
	bpf_map_update_elem(&blocked_since, &tid, &s, BPF_ANY);
}

static __always_inline void block_end(u32 tid)
{
	struct blocked_start *s = bpf_map_lookup_elem(&blocked_since, &tid);
	struct blocked_value *v, init = {};
	struct blocked_key key;
	u64 d;

	if (!s)
		return;
	d = bpf_ktime_get_ns() - s->ns;
	key.tid = tid;
	key.stack_id = s->stack_id;
	if (d >= min_block_ns) {
		v = bpf_map_lookup_elem(&io_blocked, &key);
		if (!v) {
			init.tgid = s->tgid;
			__builtin_memcpy(init.comm, s->comm, sizeof(init.comm));
			bpf_map_update_elem(&io_blocked, &key, &init, BPF_NOEXIST);
			v = bpf_map_lookup_elem(&io_blocked, &key);
		}
		if (v) {
			__sync_fetch_and_add(&v->count, 1);
			__sync_fetch_and_add(&v->total_ns, d);
			max_into(&v->max_ns, d);
		}
	}
	bpf_map_delete_elem(&blocked_since, &tid);
}

SEC("tracepoint/sched/sched_switch")
int iotracing_switch(struct trace_event_raw_sched_switch *ctx)
{
	/* a preempted task carries a flag above the low byte, so it never reads as D here */
	if ((ctx->prev_state & 0xff) == REPORT_D && ctx->prev_pid)
		block_start(ctx->prev_pid, ctx);
	block_end(ctx->next_pid);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
