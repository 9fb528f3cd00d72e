/* SPDX-License-Identifier: GPL-2.0 */
/* net_rx_latency: the slow-packet record of bpf/net_rx_latency.bpf.c, decoded by src/events/net_rx_latency.ts. */
#ifndef NET_RX_LATENCY_H
#define NET_RX_LATENCY_H

/* Where the delay since the driver stamped the skb was measured. */
enum rx_stage {
	RX_STAGE_NETIF = 1,		/* net:netif_receive_skb */
	RX_STAGE_TCP = 2,		/* tcp_v4_rcv() (kprobe only) */
	RX_STAGE_USERCOPY = 3,		/* skb:skb_copy_datagram_iovec, the copy to the reader */
};

struct net_rx_latency_event {
	hb_u64_exact netns_cookie;	/* 0 when unknown (before 5.12) */
	__u64 latency_ns;
	__u64 threshold_ns;
	__u32 pid;			/* the reader (user-copy stage only) */
	__u32 netns_inum;
	__u32 pkt_len;			/* skb->len at the stage */
	__u32 seq;			/* host order */
	__u32 ack_seq;
	__u32 ifindex;			/* 0 when the skb has no device any more */
	__u16 sport;			/* host order */
	__u16 dport;
	__u8 family;			/* 4 or 6 */
	__u8 stage;			/* enum rx_stage */
	__u8 sk_state;			/* TCP state, 0 before the socket is known */
	__u8 __pad;
	__u8 saddr[16];			/* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	char comm[16];
	char dev_name[16];
};

/*
 * Written by user space after load and on every config reload (0 = not set yet: nothing is reported).
 * excluded_netns: ExcludedHostNetnamespace's host netns inode, skipped before the rate limit; 0 = none.
 */
struct net_rx_latency_config {
	__u64 netif_ns;
	__u64 tcp_ns;
	__u64 usercopy_ns;
	__u32 excluded_netns;
	__u32 __pad;
};

#endif /* NET_RX_LATENCY_H */
