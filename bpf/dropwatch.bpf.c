// SPDX-License-Identifier: GPL-2.0
/* dropwatch: packets the kernel drops (skb:kfree_skb), with drop reason, headers, socket, device and kernel stack. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hb_common.h"
#include "hb_net.h"
#include "dropwatch.h"

#define TCP_TIME_WAIT_		6
#define TCP_LISTEN_		10
#define TCP_NEW_SYN_RECV_	12
#define SOCK_STREAM_		1

/* Set by the loader. */
const volatile bool use_perf = false;
/* Drops reported per second, all CPUs together (0 = unlimited); the rest are counted in dropwatch_limited. */
const volatile u64 max_per_second = 0;

HB_EVENT_CHANNEL(dropwatch, 1 << 20);
HB_RATELIMIT_MAPS(dropwatch);

/* The record is built here: it is larger than the 512-byte BPF stack. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct dropwatch_event);
} dropwatch_scratch SEC(".maps");

HB_EXPORT_STRUCT(dropwatch_event);
HB_EXPORT_STRUCT(dropwatch_config);

/* A map, not constants, so a config reload applies without reloading the program. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct dropwatch_config);
} dropwatch_config SEC(".maps");

/*
 * Normal frees are not drops: 0 is SKB_NOT_DROPPED_YET (5.17+), and SKB_CONSUMED (6.0+) is routed to
 * skb:consume_skb by kfree_skb_reason() since 6.1, but check it in case a kernel reports it here.
 */
static __always_inline bool is_drop(u32 reason)
{
	if (reason == DROPWATCH_NO_REASON)
		return true;
	if (bpf_core_enum_value_exists(enum skb_drop_reason, SKB_CONSUMED) &&
	    reason == bpf_core_enum_value(enum skb_drop_reason, SKB_CONSUMED))
		return false;
	return reason != 0;
}

/*
 * A socket destroyed with an empty FIN skb still in its receive queue frees it as QUEUE_PURGE (6.7+): every
 * orderly close where the peer's FIN arrives after ours does it, and no data is lost, so it is not a drop.
 */
static __always_inline bool empty_purge(struct sk_buff *skb, u32 reason)
{
	return bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE) &&
	       reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_QUEUE_PURGE) &&
	       BPF_CORE_READ(skb, len) == 0;
}

static __always_inline bool wanted(struct sk_buff *skb, u64 location, u32 reason, u16 eth_protocol)
{
	struct dropwatch_config *c;
	u32 zero = 0;

	if (!is_drop(reason) || empty_purge(skb, reason))
		return false;
	/* netlink, unix and other non-IP skbs are not network stack drops */
	if (eth_protocol != ETH_P_IP && eth_protocol != ETH_P_IPV6)
		return false;
	c = bpf_map_lookup_elem(&dropwatch_config, &zero);
	return !(c && c->neigh_start && location >= c->neigh_start && location < c->neigh_end);
}

static __always_inline void fill_l4(struct dropwatch_event *e, void *th)
{
	struct tcphdr tcp;
	struct udphdr udp;

	if (e->l4_protocol == IPPROTO_TCP_) {
		if (bpf_probe_read_kernel(&tcp, sizeof(tcp), th))
			return;
		e->sport = bpf_ntohs(tcp.source);
		e->dport = bpf_ntohs(tcp.dest);
		e->seq = bpf_ntohl(tcp.seq);
		e->ack_seq = bpf_ntohl(tcp.ack_seq);
		bpf_probe_read_kernel(&e->tcp_flags, 1, th + 13);
	} else if (e->l4_protocol == IPPROTO_UDP_) {
		if (bpf_probe_read_kernel(&udp, sizeof(udp), th))
			return;
		e->sport = bpf_ntohs(udp.source);
		e->dport = bpf_ntohs(udp.dest);
	}
}

/* Returns the transport header, or NULL when nh holds no IP header of that version. */
static __always_inline void *fill_ip(struct dropwatch_event *e, void *nh, u16 eth_protocol)
{
	struct ipv6hdr ip6;
	struct iphdr ip4;

	if (eth_protocol == ETH_P_IP) {
		if (bpf_probe_read_kernel(&ip4, sizeof(ip4), nh) || ip4.version != 4)
			return NULL;
		e->family = 4;
		e->l4_protocol = ip4.protocol;
		__builtin_memcpy(e->saddr, &ip4.saddr, 4);
		__builtin_memcpy(e->daddr, &ip4.daddr, 4);
		return nh + ip4.ihl * 4;
	}
	if (bpf_probe_read_kernel(&ip6, sizeof(ip6), nh) || ip6.version != 6)
		return NULL;
	/* extension headers are not walked: their l4_protocol is the first next-header value */
	e->family = 6;
	e->l4_protocol = ip6.nexthdr;
	__builtin_memcpy(e->saddr, &ip6.saddr, 16);
	__builtin_memcpy(e->daddr, &ip6.daddr, 16);
	return nh + sizeof(ip6);
}

static __always_inline bool not_specified(u32 reason)
{
	if (reason == DROPWATCH_NO_REASON)
		return true;
	return bpf_core_enum_value_exists(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED) &&
	       reason == bpf_core_enum_value(enum skb_drop_reason, SKB_DROP_REASON_NOT_SPECIFIED);
}

/*
 * A listener with TCP_DEFER_ACCEPT drops the bare ACK that completes a handshake and waits for data
 * (tcp_check_req(), no drop reason even in 6.18): by design, and frequent (nginx and Bun's HTTP server set
 * it), so it is neither reported nor charged to the rate limit.
 */
static __always_inline bool deferred_accept_ack(struct sock *sk, u32 reason)
{
	if (!sk || !not_specified(reason))
		return false;
	if (BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_LISTEN_)
		return false;
	return BPF_CORE_READ((struct inet_connection_sock *)sk, icsk_accept_queue.rskq_defer_accept) != 0;
}

/* Headers from the network header offset; skbs dropped before it was reset (early receive) have it at data. */
static __always_inline void fill_packet(struct dropwatch_event *e, struct sk_buff *skb, u16 eth_protocol)
{
	void *th = fill_ip(e, hb_skb_header(skb, BPF_CORE_READ(skb, network_header)), eth_protocol);

	if (!th)
		th = fill_ip(e, BPF_CORE_READ(skb, data), eth_protocol);
	if (th)
		fill_l4(e, th);
	e->pkt_len = BPF_CORE_READ(skb, len);
	e->queue_mapping = BPF_CORE_READ(skb, queue_mapping);
}

/* TCP state and, for a listener, its queues; request and timewait minisocks are TCP but have no full sock fields. */
static __always_inline void fill_sock(struct dropwatch_event *e, struct sock *sk)
{
	u8 state;

	if (!sk)
		return;
	e->has_sock = 1;
	state = BPF_CORE_READ(sk, __sk_common.skc_state);
	if (state != TCP_TIME_WAIT_ && state != TCP_NEW_SYN_RECV_) {
		/* sk_protocol and sk_type were bitfields before 5.6 */
		if (BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol) != IPPROTO_TCP_ ||
		    BPF_CORE_READ_BITFIELD_PROBED(sk, sk_type) != SOCK_STREAM_)
			return;
	}
	e->sk_state = state;
	if (state != TCP_LISTEN_)
		return;
	e->ack_backlog = BPF_CORE_READ(sk, sk_ack_backlog);
	e->max_ack_backlog = BPF_CORE_READ(sk, sk_max_ack_backlog);
	e->syn_backlog = BPF_CORE_READ((struct inet_connection_sock *)sk, icsk_accept_queue.qlen.counter);
}

static __always_inline void fill_dev(struct dropwatch_event *e, struct net_device *dev)
{
	if (!dev)
		return;
	e->ifindex = BPF_CORE_READ(dev, ifindex);
	e->link_status = hb_dev_status(dev);
	bpf_probe_read_kernel_str(e->dev_name, sizeof(e->dev_name), &dev->name);
}

static __always_inline void on_drop(void *ctx, struct sk_buff *skb, u64 location, u32 reason,
				    struct sock *rx_sk, u16 eth_protocol)
{
	struct dropwatch_event *e;
	struct net_device *dev;
	struct net *net;
	u32 zero = 0;
	long bytes;

	if (!wanted(skb, location, reason, eth_protocol))
		return;
	/* 6.11+ names the receiving socket; before, an skb being received has no owner yet */
	if (!rx_sk)
		rx_sk = BPF_CORE_READ(skb, sk);
	if (deferred_accept_ack(rx_sk, reason) || !HB_RATELIMIT_ALLOW(dropwatch, max_per_second))
		return;
	e = bpf_map_lookup_elem(&dropwatch_scratch, &zero);
	if (!e)
		return;
	__builtin_memset(e, 0, sizeof(*e));
	e->location = location;
	e->reason = reason;
	e->eth_protocol = eth_protocol;
	e->pid = bpf_get_current_pid_tgid() >> 32;
	e->cpu = bpf_get_smp_processor_id();
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	fill_packet(e, skb, eth_protocol);
	fill_sock(e, rx_sk);
	dev = BPF_CORE_READ(skb, dev);
	fill_dev(e, dev);
	net = dev ? hb_dev_net(dev) : hb_sk_net(rx_sk);
	hb_net_ids(net, &e->netns_inum, &e->netns_cookie);
	bytes = bpf_get_stack(ctx, e->stack, sizeof(e->stack), 0);
	e->stack_depth = bytes > 0 ? (u64)bytes / 8 : 0;
	HB_EVENT_OUTPUT(dropwatch, ctx, e, sizeof(*e));
}

/* Variant 1: BTF-typed tracepoint with the 6.11+ arguments (rx_sk); older kernels fail to load it and use variant 2. */
SEC("tp_btf/kfree_skb")
int BPF_PROG(dropwatch_btf, struct sk_buff *skb, void *location, enum skb_drop_reason reason, struct sock *rx_sk)
{
	on_drop(ctx, skb, (u64)location, reason, rx_sk, bpf_ntohs(BPF_CORE_READ(skb, protocol)));
	return 0;
}

/* Variant 2: the classic tracepoint, any version: reason since 5.17, rx_sk since 6.11; protocol in host order. */
SEC("tracepoint/skb/kfree_skb")
int dropwatch_tp(struct trace_event_raw_kfree_skb *ctx)
{
	u32 reason = DROPWATCH_NO_REASON;
	struct sock *rx_sk = NULL;

	if (bpf_core_field_exists(ctx->reason))
		reason = ctx->reason;
	if (bpf_core_field_exists(ctx->rx_sk))
		rx_sk = ctx->rx_sk;
	on_drop(ctx, ctx->skbaddr, (u64)ctx->location, reason, rx_sk, ctx->protocol);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
