// SPDX-License-Identifier: Apache-2.0
/*
 * Event readers: our own consumers of BPF ring buffers and perf buffers, so a drain can stop when
 * the caller's buffer is full without consuming (and losing) the record that did not fit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hb_internal.h"
#include "hb_reader.h"

static void reader_free(struct hb_reader *r)
{
	if (!r)
		return;
	hb_ring_close(r);
	hb_perf_close(r);
	if (r->epfd >= 0)
		close(r->epfd);
	free(r);
}

void hb_readers_free(struct hb_handle *hh)
{
	int i;

	for (i = 0; i < hh->nreaders; i++)
		reader_free(hh->readers[i]);
	free(hh->readers);
	hh->readers = NULL;
	hh->nreaders = 0;
}

int hb_epoll_add(int epfd, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int add_reader(struct hb_handle *hh, struct hb_reader *r)
{
	struct hb_reader **grown;
	int i;

	for (i = 0; i < hh->nreaders; i++)
		if (!hh->readers[i])
			break;
	if (i == hh->nreaders) {
		grown = realloc(hh->readers, (hh->nreaders + 1) * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		hh->readers = grown;
		hh->nreaders++;
	}
	hh->readers[i] = r;
	return i;
}

HB_API int hb_reader_open(int h, const char *name, uint32_t pages)
{
	struct hb_handle *hh = hb_enter(h);
	struct bpf_map *map, *lost;
	struct hb_reader *r;
	char lost_name[256];
	int err, id;

	if (!hh)
		return -EBADF;
	map = hh->obj ? bpf_object__find_map_by_name(hh->obj, name) : NULL;
	if (!map || bpf_map__fd(map) < 0)
		return hb_fail(hh, ENOENT, "reader %s: no such loaded map", name);
	r = calloc(1, sizeof(*r));
	if (!r)
		return hb_fail(hh, ENOMEM, "reader %s", name);
	r->page = sysconf(_SC_PAGESIZE);
	r->lost_fd = -1;
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->epfd < 0)
		err = -errno;
	else if (bpf_map__type(map) == BPF_MAP_TYPE_RINGBUF)
		err = hb_ring_open(r, bpf_map__fd(map), bpf_map__max_entries(map));
	else if (bpf_map__type(map) == BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		err = hb_perf_open(r, bpf_map__fd(map), bpf_map__max_entries(map), pages);
	else
		err = -EINVAL;
	if (err) {
		reader_free(r);
		return hb_fail(hh, err, "reader %s", name);
	}
	snprintf(lost_name, sizeof(lost_name), "%s_lost", name);
	lost = bpf_object__find_map_by_name(hh->obj, lost_name);
	if (lost && bpf_map__value_size(lost) == 8)
		r->lost_fd = bpf_map__fd(lost);
	id = add_reader(hh, r);
	if (id < 0) {
		reader_free(r);
		return hb_fail(hh, ENOMEM, "reader %s", name);
	}
	return id;
}

int hb_put_record(char *out, uint32_t cap, uint32_t *used, uint32_t cpu, const void *data,
		  uint32_t len)
{
	uint32_t need = (sizeof(struct hb_record_hdr) + len + 7) & ~7u;
	struct hb_record_hdr hdr = { .len = len, .cpu = cpu };

	if ((uint64_t)*used + need > cap)
		return 0;
	memcpy(out + *used, &hdr, sizeof(hdr));
	memcpy(out + *used + sizeof(hdr), data, len);
	*used += need;
	return 1;
}

static int drain(struct hb_reader *r, char *out, uint32_t cap, uint32_t *used)
{
	return r->rb ? hb_ring_drain(r, out, cap, used) : hb_perf_drain(r, out, cap, used);
}

static struct hb_reader *get_reader(struct hb_handle *hh, int id)
{
	if (id < 0 || id >= hh->nreaders || !hh->readers[id]) {
		hb_fail(hh, ENOENT, "reader id %d", id);
		return NULL;
	}
	return hh->readers[id];
}

HB_API int hb_reader_read(int h, int id, void *buf, uint32_t cap, int timeout_ms)
{
	struct hb_handle *hh = hb_enter(h);
	struct epoll_event evs[16];
	struct hb_reader *r;
	uint32_t used = 0;
	int n;

	if (!hh)
		return -EBADF;
	r = get_reader(hh, id);
	if (!r)
		return -ENOENT;
	n = drain(r, buf, cap, &used);
	if (n || timeout_ms <= 0)
		return n;
	if (epoll_wait(r->epfd, evs, 16, timeout_ms) < 0 && errno != EINTR)
		return hb_fail(hh, errno, "wait for events");
	return drain(r, buf, cap, &used);
}

HB_API int hb_reader_lost(int h, int id, uint64_t *out)
{
	struct hb_handle *hh = hb_enter(h);
	uint64_t vals[1024], sum = 0;
	uint32_t key = 0;
	struct hb_reader *r;
	int i, ncpus = hb_possible_cpus();

	if (!hh)
		return -EBADF;
	r = get_reader(hh, id);
	if (!r)
		return -ENOENT;
	if (r->lost_fd >= 0 && ncpus <= 1024) {
		struct bpf_map_info info = {};
		uint32_t len = sizeof(info);

		if (bpf_obj_get_info_by_fd(r->lost_fd, &info, &len) == 0 &&
		    !bpf_map_lookup_elem(r->lost_fd, &key, vals)) {
			int copies = info.type == BPF_MAP_TYPE_PERCPU_ARRAY ? ncpus : 1;

			for (i = 0; i < copies; i++)
				sum += vals[i];
		}
	}
	*out = r->lost + sum;
	return 0;
}

HB_API int hb_reader_fd(int h, int id)
{
	struct hb_handle *hh = hb_enter(h);
	struct hb_reader *r;

	if (!hh)
		return -EBADF;
	r = get_reader(hh, id);
	return r ? r->epfd : -ENOENT;
}

HB_API int hb_reader_close(int h, int id)
{
	struct hb_handle *hh = hb_enter(h);
	struct hb_reader *r;

	if (!hh)
		return -EBADF;
	r = get_reader(hh, id);
	if (!r)
		return -ENOENT;
	reader_free(r);
	hh->readers[id] = NULL;
	return 0;
}
