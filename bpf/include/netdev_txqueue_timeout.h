/* SPDX-License-Identifier: GPL-2.0 */
/* netdev_txqueue_timeout: the event of bpf/netdev_txqueue_timeout.bpf.c, decoded by src/events/netdev_txqueue_timeout.ts. */
#ifndef NETDEV_TXQUEUE_TIMEOUT_H
#define NETDEV_TXQUEUE_TIMEOUT_H

struct netdev_txqueue_timeout_event {
	hb_u64_exact netns_cookie;	/* 0 when unknown (classic tracepoint, or before 5.12) */
	__u32 netns_inum;		/* 0 when unknown */
	__u32 ifindex;			/* 0 when unknown */
	__u32 queue_index;
	__u32 link_status;		/* HB_DEV_* bits, valid when ifindex != 0 */
	char name[16];
	char driver[32];
};

#endif /* NETDEV_TXQUEUE_TIMEOUT_H */
