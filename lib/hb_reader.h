/* SPDX-License-Identifier: Apache-2.0 */
/* Internal: the event reader state shared by hb_reader.c (API), hb_ringbuf.c and hb_perfbuf.c (consumers). */
#ifndef HB_READER_H
#define HB_READER_H

#include <stddef.h>
#include <stdint.h>

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

int hb_epoll_add(int epfd, int fd);
/* Appends one record to out if it fits; returns 0 when out is full. */
int hb_put_record(char *out, uint32_t cap, uint32_t *used, uint32_t cpu, const void *data,
		  uint32_t len);

int hb_ring_open(struct hb_reader *r, int map_fd, uint32_t max_entries);
int hb_ring_drain(struct hb_reader *r, char *out, uint32_t cap, uint32_t *used);
void hb_ring_close(struct hb_reader *r);

int hb_perf_open(struct hb_reader *r, int map_fd, uint32_t max_entries, uint32_t pages);
int hb_perf_drain(struct hb_reader *r, char *out, uint32_t cap, uint32_t *used);
void hb_perf_close(struct hb_reader *r);

#endif /* HB_READER_H */
