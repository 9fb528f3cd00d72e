/* SPDX-License-Identifier: GPL-2.0 */
/* dropwatch: the drop record of bpf/dropwatch.bpf.c, decoded by src/events/dropwatch.ts. */
#ifndef DROPWATCH_H
#define DROPWATCH_H

#define DROPWATCH_STACK_DEPTH 64
/* reason when the kernel's kfree_skb has no reason field (before 5.17) */
#define DROPWATCH_NO_REASON 0xffffffffU

struct dropwatch_event {
	hb_u64_exact location;		/* the kernel address that freed the skb */
	hb_u64_exact netns_cookie;	/* 0 when unknown (before 5.12) */
	__u32 reason;			/* enum skb_drop_reason, or DROPWATCH_NO_REASON */
	__u32 pid;			/* the task current at the drop (often whatever a softirq interrupted) */
	__u32 netns_inum;
	__u32 ifindex;
	__u32 pkt_len;			/* skb->len */
	__u32 seq;			/* TCP, host order */
	__u32 ack_seq;
	__u32 ack_backlog;		/* listening TCP socket: accept queue length */
	__u32 max_ack_backlog;
	__u32 syn_backlog;		/* listening TCP socket: request (SYN) queue length */
	__u32 stack_depth;		/* frames in stack[] */
	__u32 cpu;
	__u16 eth_protocol;		/* skb->protocol, host order */
	__u16 queue_mapping;
	__u16 sport;			/* host order */
	__u16 dport;
	__u8 family;			/* 4, 6, or 0 when the IP header could not be read */
	__u8 l4_protocol;		/* IPPROTO_* */
	__u8 tcp_flags;			/* TCP header byte 13: CWR ECE URG ACK PSH RST SYN FIN */
	__u8 sk_state;			/* TCP socket state, 0 without a TCP socket */
	__u8 link_status;		/* HB_DEV_* bits of the device, when there is one */
	__u8 has_sock;
	__u8 __pad[2];
	__u8 saddr[16];			/* IPv4 in the first 4 bytes */
	__u8 daddr[16];
	char comm[16];
	char dev_name[16];
	hb_u64_exact stack[DROPWATCH_STACK_DEPTH];
};

/*
 * Written by user space after load and on every config reload: [neigh_start, neigh_end) is neigh_invalidate()
 * from kallsyms while ExcludedNeighInvalidate is on (drops freed there are neighbour-expiry noise), else 0.
 */
struct dropwatch_config {
	__u64 neigh_start;
	__u64 neigh_end;
};

#endif /* DROPWATCH_H */
