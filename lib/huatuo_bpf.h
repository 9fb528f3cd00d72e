/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libhuatuo_bpf: the batch-oriented native layer between the TypeScript agent and libbpf.
 * Every call is synchronous, never calls back into the caller, and moves many records per call.
 *
 * Conventions
 *  - A handle (int >= 0) owns one BPF object with its links, maps and event readers.
 *  - Functions return >= 0 on success and -errno on failure. The failure is also recorded on the
 *    handle (hb_error) and in the global slot HB_GLOBAL, so a caller without a handle can read it.
 *  - libbpf's own messages never reach stderr: they are kept per handle (hb_log) and the first
 *    warning of the failing call is appended to the error message.
 *  - Strings are NUL-terminated UTF-8. Buffers are owned by the caller and written in place.
 *  - Not thread-safe: call from one thread. The library's own thread (hb_poll_start's) only waits
 *    and writes to its pipe; it never calls into the caller.
 */
#ifndef HUATUO_BPF_H
#define HUATUO_BPF_H

#include <stdint.h>

#define HB_ABI_VERSION 3
#define HB_GLOBAL (-1)

/* Attach kinds for hb_attach(). */
enum hb_attach_kind {
	HB_ATTACH_TRACEPOINT = 1,	/* target "group/name"; classic tracepoint (SEC "tracepoint/...") */
	HB_ATTACH_RAW_TRACEPOINT = 2,	/* target "name"; SEC "raw_tp/..." */
	HB_ATTACH_BTF = 3,		/* tp_btf/fentry/fexit; target taken from SEC at load, ignored here */
	HB_ATTACH_KPROBE = 4,		/* target kernel function name */
	HB_ATTACH_KRETPROBE = 5,	/* target kernel function name */
	HB_ATTACH_PERF_EVENT = 6,	/* target "<perf type>:<config>", arg = sample frequency in Hz;
					 * one perf event per online CPU, one link id for the group */
};

/* Flags for hb_map_lookup() and hb_map_dump() on per-CPU maps. */
enum hb_value_flags {
	HB_PERCPU_RAW = 0,	/* ncpus copies, each padded to 8 bytes (the kernel's layout) */
	HB_PERCPU_SUM = 1,	/* one value: the copies summed as u64 words (value size % 8 == 0) */
};

/* Layout of hb_map_info()'s output, 7 x u32. */
enum hb_map_info_field {
	HB_MI_TYPE,		/* enum bpf_map_type */
	HB_MI_KEY_SIZE,
	HB_MI_VALUE_SIZE,
	HB_MI_MAX_ENTRIES,
	HB_MI_PERCPU,		/* 1 when values are per CPU */
	HB_MI_NCPUS,		/* possible CPUs, the number of per-CPU copies */
	HB_MI_FD,
	HB_MI_COUNT,
};

/*
 * Every record written by hb_reader_read() starts with this header; the payload follows and the
 * next record starts at the following 8-byte boundary.
 */
struct hb_record_hdr {
	uint32_t len;		/* payload bytes */
	uint32_t cpu;		/* CPU of a perf buffer record, 0xffffffff for ring buffers */
};

#define HB_RECORD_NO_CPU 0xffffffffu

/* Library and handles. */
int hb_abi_version(void);
/* 0 = keep libbpf warnings (default), 1 = also info, 2 = also debug. */
int hb_set_log_level(int level);
int hb_new(void);
int hb_free(int h);
/* Writes the last error message of h (or HB_GLOBAL) into buf; returns its errno (0 = none). */
int hb_error(int h, char *buf, uint32_t cap);
/* Writes the tail of libbpf's messages for h (verifier logs included); returns bytes written. */
int hb_log(int h, char *buf, uint32_t cap);

/* Object lifecycle: open from memory (copied), set .rodata constants, choose programs, load. */
int hb_open(int h, const void *data, uint64_t len, const char *name, const char *btf_path);
int hb_set_rodata(int h, const char *var, const void *val, uint32_t len);
int hb_prog_autoload(int h, const char *prog, int on);
/* A map left uncreated (e.g. a ring buffer before 5.8); code using it must be dead for this load. */
int hb_map_autocreate(int h, const char *map, int on);
/*
 * Before load: grows a ring buffer map to hold bytes_per_cpu for every possible CPU (for programs
 * rate-limited per CPU), rounded up to a power of two (at most 1 GiB), never below its compiled size;
 * returns the size.
 */
int hb_ringbuf_per_cpu(int h, const char *map, uint32_t bytes_per_cpu);
int hb_load(int h);

/* Attach a loaded program; returns a link id. */
int hb_attach(int h, const char *prog, int kind, const char *target, uint64_t arg);
int hb_detach(int h, int link);
/* run_time_ns and run_cnt into out[0], out[1] (needs kernel.bpf_stats_enabled=1). */
int hb_prog_stats(int h, const char *prog, uint64_t *out);

/* Maps: find by name (returns a map id), then operate by id. */
int hb_map(int h, const char *name);
int hb_map_info(int h, int map, uint32_t *out);
/* Returns 1 when found, 0 when absent. */
int hb_map_lookup(int h, int map, const void *key, void *value, int flags);
int hb_map_update(int h, int map, const void *key, const void *value, uint64_t flags);
/* Returns 1 when deleted, 0 when absent. */
int hb_map_delete(int h, int map, const void *key);
/* Copies up to max entries into keys[] and values[]; returns the count. */
int hb_map_dump(int h, int map, void *keys, void *values, uint32_t max, int flags);

/*
 * Event readers over a BPF_MAP_TYPE_RINGBUF or BPF_MAP_TYPE_PERF_EVENT_ARRAY map; returns a reader
 * id. pages is the per-CPU perf buffer size in pages (a power of two; ignored for ring buffers).
 * Records stay in the kernel buffer until the caller's buffer has room for them: nothing is lost
 * on the user side. Lost counts: perf buffers count the kernel's PERF_RECORD_LOST; a ring buffer
 * reports the sum of the optional u64 counter map "<map>_lost" (written by the BPF side).
 */
int hb_reader_open(int h, const char *map, uint32_t pages);
/* Drains into buf; waits up to timeout_ms (0 = never) when empty; returns the record count. */
int hb_reader_read(int h, int reader, void *buf, uint32_t cap, int timeout_ms);
int hb_reader_lost(int h, int reader, uint64_t *out);
int hb_reader_close(int h, int reader);
/* The reader's epoll descriptor: readable when a record is waiting (for hb_poll_add). */
int hb_reader_fd(int h, int reader);

/*
 * The poller of a handle without an object: a thread waits on every added descriptor and, when any
 * is readable, writes their u32 tags (one write of up to 64) to a non-blocking pipe, then sleeps
 * until armed again by writing a u64 1 to the arm eventfd, and interval_ms longer: a busy source
 * is read in batches, while the first record after a quiet spell is reported at once. fds[0] = the
 * pipe's read end, fds[1] = the arm eventfd; both stay owned by the handle (hb_free stops the
 * thread and closes them). A pipe at end of file means the thread has stopped.
 */
int hb_poll_start(int h, int32_t *fds, int interval_ms);
/* Tags are the caller's; UINT32_MAX is reserved. Descriptors are level-triggered. */
int hb_poll_add(int h, int fd, uint32_t tag);
int hb_poll_del(int h, int fd);

/* Kernel feature probes: 1 supported, 0 not, -errno when the probe itself failed. */
int hb_probe_map_type(int type);
int hb_probe_prog_type(int type);
/* mount -t tracefs nodev <target>, without needing a mount binary on the host. */
int hb_mount_tracefs(const char *target);

/*
 * cgroupstats (taskstats' CGROUPSTATS_CMD_GET over generic netlink) of count cgroup v1 directories,
 * given as NUL-terminated paths back to back. family is the TASKSTATS generic netlink family id.
 * out[i*5 .. i*5+4] receives path i's struct cgroupstats (sleeping, running, stopped,
 * uninterruptible, io_wait), zeros when errs[i] is set: 0, or the errno of opening the directory
 * or of the kernel's answer (ENOENT: the cgroup is gone; EINVAL: not a cgroup v1 directory).
 * Returns count, or -errno when netlink itself failed or the kernel did not answer within 2 s.
 */
int hb_cgroupstats(int family, const char *paths, uint32_t count, uint64_t *out, int32_t *errs);

#endif /* HUATUO_BPF_H */
