// SPDX-License-Identifier: Apache-2.0
/* Consumer of perf buffers (a BPF_MAP_TYPE_PERF_EVENT_ARRAY of per-CPU perf rings): kernels before 5.8. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>

#include "hb_internal.h"
#include "hb_reader.h"

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
	    ioctl(ring->fd, PERF_EVENT_IOC_ENABLE, 0) || hb_epoll_add(r->epfd, ring->fd)) {
		int err = -errno;

		if (ring->base != MAP_FAILED)
			munmap(ring->base, r->page + r->data_size);
		close(ring->fd);
		return err;
	}
	return 0;
}

int hb_perf_open(struct hb_reader *r, int map_fd, uint32_t max_entries, uint32_t pages)
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
			if (!hb_put_record(out, cap, used, ring->cpu, rec + sizeof(eh) + 4, size))
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

int hb_perf_drain(struct hb_reader *r, char *out, uint32_t cap, uint32_t *used)
{
	int i, n = 0;

	for (i = 0; i < r->nrings; i++)
		n += perf_drain_one(r, &r->rings[i], out, cap, used);
	return n;
}

void hb_perf_close(struct hb_reader *r)
{
	int i;

	for (i = 0; i < r->nrings; i++) {
		ioctl(r->rings[i].fd, PERF_EVENT_IOC_DISABLE, 0);
		munmap(r->rings[i].base, r->page + r->data_size);
		close(r->rings[i].fd);
	}
	free(r->rings);
}
