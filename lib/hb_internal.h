/* SPDX-License-Identifier: Apache-2.0 */
/* Internal state shared by the files of libhuatuo_bpf: handles, error recording, tables. */
#ifndef HB_INTERNAL_H
#define HB_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <bpf/libbpf.h>

#include "huatuo_bpf.h"

#define HB_API __attribute__((visibility("default")))
#define HB_ERR_CAP 1024
#define HB_LOG_CAP (64 * 1024)

struct hb_link {
	struct bpf_link **links;	/* several for a per-CPU perf event group */
	int n;
};

struct hb_map {
	struct bpf_map *map;
	int fd;
	uint32_t type, key_size, value_size, max_entries;
	int percpu;
};

struct hb_reader;
struct hb_poller;

struct hb_handle {
	int used;
	struct bpf_object *obj;
	void *data;			/* our copy of the object bytes, alive as long as obj */
	struct hb_link *links;
	int nlinks;
	struct hb_map *maps;
	int nmaps;
	struct hb_reader **readers;
	int nreaders;
	struct hb_poller *poller;	/* started by hb_poll_start, on a handle without an object */
	int err_no;
	char err[HB_ERR_CAP];
	char *log;			/* tail of libbpf messages, HB_LOG_CAP bytes */
	size_t log_len;
	char first_warn[256];		/* first libbpf warning during the current call */
};

/*
 * Start an API call on handle h: the live handle, from which on libbpf messages are captured into it; or NULL
 * (EBADF recorded globally) when h is not a live handle.
 */
struct hb_handle *hb_enter(int h);
/* Record a failure on h and globally; returns -err so callers can `return hb_fail(...)`. */
int hb_fail(struct hb_handle *hh, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int hb_possible_cpus(void);

/* Release every reader of a handle (hb_reader.c). */
void hb_readers_free(struct hb_handle *hh);
/* Stop the poller thread of a handle and close its descriptors (hb_poll.c). */
void hb_poller_free(struct hb_handle *hh);

/* pthread_create and pthread_join at their oldest symbol versions (glibc_compat.c). */
int compat_pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*fn)(void *),
			  void *arg);
int compat_pthread_join(pthread_t thread, void **ret);

#endif /* HB_INTERNAL_H */
