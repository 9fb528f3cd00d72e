// SPDX-License-Identifier: Apache-2.0
/*
 * Event readers: our own consumers of BPF ring buffers and perf buffers, so a drain can stop when
 * the caller's buffer is full without consuming (and losing) the record that did not fit.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "hb_internal.h"

/* Ring buffer record header bits (kernel/bpf/ringbuf.c, 5.8+). */
#define RB_BUSY_BIT (1u << 31)
#define RB_DISCARD_BIT (1u << 30)
#define RB_HDR_SZ 8

struct perf_ring {
	int fd, cpu;
	void *base;		/* metadata page followed by the data pages */
};

struct hb_reader {
	int epfd;
	int lost_fd;		/* "<map>_lost" counters of a ring buffer, or -1 */
	size_t page;
	/* ring buffer */
	int rb;
	unsigned long *consumer;	/* read-write consumer page */
	void *producer;		/* read-only producer page + data mapped twice */
	uint64_t mask;
	/* perf buffer */
	struct perf_ring *rings;
	int nrings;
	size_t data_size;
	uint64_t lost;
};

static void reader_free(struct hb_reader *r)
{
	int i;

	if (!r)
		return;
	if (r->consumer)
		munmap(r->consumer, r->page);
	if (r->producer)
		munmap(r->producer, r->page + 2 * (r->mask + 1));
	for (i = 0; i < r->nrings; i++) {
		ioctl(r->rings[i].fd, PERF_EVENT_IOC_DISABLE, 0);
		munmap(r->rings[i].base, r->page + r->data_size);
		close(r->rings[i].fd);
	}
	free(r->rings);
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

static int epoll_add(int epfd, int fd, uint64_t data)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = data };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static int ring_open(struct hb_reader *r, int fd, uint32_t max_entries)
{
	r->mask = max_entries - 1;
	r->consumer = mmap(NULL, r->page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->consumer == MAP_FAILED) {
		r->consumer = NULL;
		return -errno;
	}
	/* the kernel maps the data area twice in a row, so no record ever wraps for us */
	r->producer = mmap(NULL, r->page + 2 * (size_t)max_entries, PROT_READ, MAP_SHARED, fd,
			   r->page);
	if (r->producer == MAP_FAILED) {
		r->producer = NULL;
		return -errno;
	}
	r->rb = 1;
	return epoll_add(r->epfd, fd, 0);
}

static int perf_ring_open(struct hb_reader *r, int map_fd, int cpu, struct perf_ring *ring)
{
	struct perf_event_attr attr = {
		.size = sizeof(attr),
		.type = PERF_TYPE_SOFTWARE,
		.config = PERF_COUNT_SW_BPF_OUTPUT,
		.sample_type = PERF_SAMPLE_RAW,
		.sample_period = 1,
		.wakeup_events = 1,
	};

	ring->cpu = cpu;
	ring->fd = syscall(__NR_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
	if (ring->fd < 0)
		return -errno;
	ring->base = mmap(NULL, r->page + r->data_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			  ring->fd, 0);
	if (ring->base == MAP_FAILED || bpf_map_update_elem(map_fd, &cpu, &ring->fd, BPF_ANY) ||
	    ioctl(ring->fd, PERF_EVENT_IOC_ENABLE, 0) || epoll_add(r->epfd, ring->fd, 0)) {
		int err = -errno;

		if (ring->base != MAP_FAILED)
			munmap(ring->base, r->page + r->data_size);
		close(ring->fd);
		return err;
	}
	return 0;
}

static int perf_open(struct hb_reader *r, int map_fd, uint32_t max_entries, uint32_t pages)
{
	int cpu, n = hb_possible_cpus(), err;

	if (!pages || (pages & (pages - 1)))
		return -EINVAL;
	r->data_size = (size_t)pages * r->page;
	r->rings = calloc(n, sizeof(*r->rings));
	if (!r->rings)
		return -ENOMEM;
	for (cpu = 0; cpu < n && cpu < (int)max_entries; cpu++) {
		err = perf_ring_open(r, map_fd, cpu, &r->rings[r->nrings]);
		/* offline CPUs cannot open events; they produce nothing either */
		if (err == -ENODEV)
			continue;
		if (err)
			return err;
		r->nrings++;
	}
	return 0;
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
	struct hb_handle *hh = hb_get(h);
	struct bpf_map *map, *lost;
	struct hb_reader *r;
	char lost_name[256];
	int err, id;

	if (!hh)
		return -EBADF;
	hb_begin(hh);
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
		err = ring_open(r, bpf_map__fd(map), bpf_map__max_entries(map));
	else if (bpf_map__type(map) == BPF_MAP_TYPE_PERF_EVENT_ARRAY)
		err = perf_open(r, bpf_map__fd(map), bpf_map__max_entries(map), pages);
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

/* Appends one record to out if it fits; returns 0 when out is full. */
static int put_record(char *out, uint32_t cap, uint32_t *used, uint32_t cpu, const void *data,
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

static int ring_drain(struct hb_reader *r, char *out, uint32_t cap, uint32_t *used)
{
	unsigned long cons = *r->consumer;
	unsigned long prod = __atomic_load_n((unsigned long *)r->producer, __ATOMIC_ACQUIRE);
	char *data = (char *)r->producer + r->page;
	int n = 0;

	while (cons < prod) {
		uint32_t *hdr = (uint32_t *)(data + (cons & r->mask));
		uint32_t len = __atomic_load_n(hdr, __ATOMIC_ACQUIRE);
		uint32_t size = len & ~(RB_BUSY_BIT | RB_DISCARD_BIT);

		if (len & RB_BUSY_BIT)
			break;
		if (!(len & RB_DISCARD_BIT)) {
			if (!put_record(out, cap, used, HB_RECORD_NO_CPU, hdr + 2, size))
				break;
			n++;
		}
		cons += (size + RB_HDR_SZ + 7) & ~7ul;
		__atomic_store_n(r->consumer, cons, __ATOMIC_RELEASE);
	}
	return n;
}

/* Copies len bytes at ring offset off, handling the wrap at the end of the data area. */
static void ring_copy(void *dst, const char *data, size_t size, uint64_t off, size_t len)
{
	size_t at = off & (size - 1), first = len < size - at ? len : size - at;

	memcpy(dst, data + at, first);
	memcpy((char *)dst + first, data, len - first);
}

static int perf_drain_one(struct hb_reader *r, struct perf_ring *ring, char *out, uint32_t cap,
			  uint32_t *used)
{
	struct perf_event_mmap_page *meta = ring->base;
	const char *data = (const char *)ring->base + r->page;
	uint64_t head = __atomic_load_n(&meta->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = meta->data_tail;
	static char rec[1 << 16];	/* perf records are at most 64 KiB (u16 size) */
	struct perf_event_header eh;
	int n = 0;

	while (tail < head) {
		ring_copy(&eh, data, r->data_size, tail, sizeof(eh));
		if (eh.size < sizeof(eh))
			break;	/* never spin on a corrupt header */
		ring_copy(rec, data, r->data_size, tail, eh.size);
		if (eh.type == PERF_RECORD_SAMPLE) {
			uint32_t size;

			memcpy(&size, rec + sizeof(eh), sizeof(size));
			if (!put_record(out, cap, used, ring->cpu, rec + sizeof(eh) + 4, size))
				break;
			n++;
		} else if (eh.type == PERF_RECORD_LOST) {
			uint64_t lost;

			memcpy(&lost, rec + sizeof(eh) + 8, sizeof(lost));	/* after u64 id */
			r->lost += lost;
		}
		tail += eh.size;
		__atomic_store_n(&meta->data_tail, tail, __ATOMIC_RELEASE);
	}
	return n;
}

static int drain(struct hb_reader *r, char *out, uint32_t cap, uint32_t *used)
{
	int i, n = 0;

	if (r->rb)
		return ring_drain(r, out, cap, used);
	for (i = 0; i < r->nrings; i++)
		n += perf_drain_one(r, &r->rings[i], out, cap, used);
	return n;
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
	struct hb_handle *hh = hb_get(h);
	struct epoll_event evs[16];
	struct hb_reader *r;
	uint32_t used = 0;
	int n;

	if (!hh)
		return -EBADF;
	hb_begin(hh);
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
	struct hb_handle *hh = hb_get(h);
	uint64_t vals[1024], sum = 0;
	uint32_t key = 0;
	struct hb_reader *r;
	int i, ncpus = hb_possible_cpus();

	if (!hh)
		return -EBADF;
	hb_begin(hh);
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

HB_API int hb_reader_close(int h, int id)
{
	struct hb_handle *hh = hb_get(h);
	struct hb_reader *r;

	if (!hh)
		return -EBADF;
	hb_begin(hh);
	r = get_reader(hh, id);
	if (!r)
		return -ENOENT;
	reader_free(r);
	hh->readers[id] = NULL;
	return 0;
}
