// SPDX-License-Identifier: Apache-2.0
/* Consumer of BPF ring buffers (5.8+), over the kernel's memory mapping of the map. */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include "hb_reader.h"
#include "huatuo_bpf.h"

/* Record header bits (kernel/bpf/ringbuf.c) */
#define RB_BUSY_BIT (1u << 31)
#define RB_DISCARD_BIT (1u << 30)
#define RB_HDR_SZ 8

int hb_ring_open(struct hb_reader *r, int fd, uint32_t max_entries)
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
	return hb_epoll_add(r->epfd, fd);
}

int hb_ring_drain(struct hb_reader *r, char *out, uint32_t cap, uint32_t *used)
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
			if (!hb_put_record(out, cap, used, HB_RECORD_NO_CPU, hdr + 2, size))
				break;
			n++;
		}
		cons += (size + RB_HDR_SZ + 7) & ~7ul;
		__atomic_store_n(r->consumer, cons, __ATOMIC_RELEASE);
	}
	return n;
}

void hb_ring_close(struct hb_reader *r)
{
	if (r->consumer)
		munmap(r->consumer, r->page);
	if (r->producer)
		munmap(r->producer, r->page + 2 * (r->mask + 1));
}
