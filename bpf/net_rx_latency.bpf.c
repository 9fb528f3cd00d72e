// SPDX-License-Identifier: GPL-2.0
/* net_rx_latency: TCP packets slow on the receive path, from the driver's timestamp to three later stages. */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hb_common.h"
#include "hb_net.h"
#include "net_rx_latency.h"

/* Set by the loader. */
const volatile bool use_perf = false;
/* CLOCK_REALTIME - CLOCK_MONOTONIC in ns: skb timestamps are wall-clock unless marked monotonic */
const volatile s64 mono_wall_offset = 0;
const volatile u64 max_per_second = 0;

HB_EVENT_CHANNEL(rxlat, 1 << 18);
HB_RATELIMIT_MAPS(rxlat);
HB_EXPORT_STRUCT(net_rx_latency_event);
HB_EXPORT_STRUCT(net_rx_latency_config);

/* Thresholds live in a map, not in constants, so a config reload applies without reloading the programs. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, struct net_rx_latency_config);
} rxlat_config SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);		/* slow packets of the excluded namespace */
} rxlat_excluded SEC(".maps");

/* 5.18-6.10 marked a monotonic delivery time with one bit; 6.11 replaced it with tstamp_type */
struct sk_buff___5_18 {
	__u8 mono_delivery_time: 1;
} __attribute__((preserve_access_index));

enum { CLOCK_WALL, CLOCK_MONO, CLOCK_OTHER };

static __always_inline int tstamp_clock(struct sk_buff *skb)
{
	u8 type;

	if (bpf_core_field_exists(skb->tstamp_type)) {
		type = BPF_CORE_READ_BITFIELD_PROBED(skb, tstamp_type);
		if (type == bpf_core_enum_value(enum skb_tstamp_type, SKB_CLOCK_REALTIME))
			return CLOCK_WALL;
		/* TAI (launch times of transmitted packets) is not a receive stamp */
		return type == bpf_core_enum_value(enum skb_tstamp_type, SKB_CLOCK_MONOTONIC) ? CLOCK_MONO : CLOCK_OTHER;
	}
	if (bpf_core_field_exists(((struct sk_buff___5_18 *)skb)->mono_delivery_time) &&
	    BPF_CORE_READ_BITFIELD_PROBED((struct sk_buff___5_18 *)skb, mono_delivery_time))
		return CLOCK_MONO;
	return CLOCK_WALL;
}

/* ns since the skb was stamped, 0 when it has no usable stamp */
static __always_inline u64 skb_delay(struct sk_buff *skb)
{
	s64 stamp = BPF_CORE_READ(skb, tstamp);
	s64 now = bpf_ktime_get_ns();
	int clock;

	if (stamp <= 0)
		return 0;
	clock = tstamp_clock(skb);
	if (clock == CLOCK_OTHER)
		return 0;
	if (clock == CLOCK_WALL)
		now += mono_wall_offset;
	return now > stamp ? now - stamp : 0;
}

static __always_inline u64 threshold(struct net_rx_latency_config *c, u8 stage)
{
	if (stage == RX_STAGE_NETIF)
		return c->netif_ns;
	return stage == RX_STAGE_TCP ? c->tcp_ns : c->usercopy_ns;
}

/* IPv4 or IPv6 TCP headers at nh; false for anything else */
static __always_inline bool fill_tcp(struct net_rx_latency_event *e, void *nh, u16 protocol)
{
	struct ipv6hdr ip6;
	struct iphdr ip4;
	struct tcphdr th;
	void *l4;

	if (protocol == ETH_P_IP) {
		if (bpf_probe_read_kernel(&ip4, sizeof(ip4), nh) || ip4.version != 4 || ip4.protocol != IPPROTO_TCP_)
			return false;
		e->family = 4;
		__builtin_memcpy(e->saddr, &ip4.saddr, 4);
		__builtin_memcpy(e->daddr, &ip4.daddr, 4);
		l4 = nh + ip4.ihl * 4;
	} else if (protocol == ETH_P_IPV6) {
		if (bpf_probe_read_kernel(&ip6, sizeof(ip6), nh) || ip6.version != 6 || ip6.nexthdr != IPPROTO_TCP_)
			return false;
		e->family = 6;
		__builtin_memcpy(e->saddr, &ip6.saddr, 16);
		__builtin_memcpy(e->daddr, &ip6.daddr, 16);
		l4 = nh + sizeof(ip6);
	} else {
		return false;
	}
	if (bpf_probe_read_kernel(&th, sizeof(th), l4))
		return false;
	e->sport = bpf_ntohs(th.source);
	e->dport = bpf_ntohs(th.dest);
	e->seq = bpf_ntohl(th.seq);
	e->ack_seq = bpf_ntohl(th.ack_seq);
	return true;
}

static __always_inline void fill_context(struct net_rx_latency_event *e, struct sk_buff *skb, u8 stage)
{
	struct net_device *dev = BPF_CORE_READ(skb, dev);
	struct sock *sk = BPF_CORE_READ(skb, sk);

	e->pkt_len = BPF_CORE_READ(skb, len);
	if (stage == RX_STAGE_USERCOPY) {
		/* only here is current the receiving process; earlier stages run in softirq context */
		e->pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
	}
	if (sk)
		e->sk_state = BPF_CORE_READ(sk, __sk_common.skc_state);
	/* an skb queued to a socket may have lost its device; its socket knows the namespace */
	hb_net_ids(sk ? hb_sk_net(sk) : hb_dev_net(dev), &e->netns_inum, &e->netns_cookie);
	if (dev && stage != RX_STAGE_USERCOPY) {
		e->ifindex = BPF_CORE_READ(dev, ifindex);
		bpf_probe_read_kernel_str(e->dev_name, sizeof(e->dev_name), &dev->name);
	}
}

/* nh: the network header (skb->data at netif_receive_skb, before it is reset) */
static __always_inline void on_stage(void *ctx, struct sk_buff *skb, void *nh, u8 stage)
{
	struct net_rx_latency_event e = {};
	struct net_rx_latency_config *c;
	u64 delay, limit, *excluded;
	u32 zero = 0;

	c = bpf_map_lookup_elem(&rxlat_config, &zero);
	if (!c)
		return;
	limit = threshold(c, stage);
	delay = skb_delay(skb);
	if (!limit || !delay || delay < limit)
		return;
	if (!fill_tcp(&e, nh, bpf_ntohs(BPF_CORE_READ(skb, protocol))))
		return;
	fill_context(&e, skb, stage);
	if (c->excluded_netns && e.netns_inum == c->excluded_netns) {
		excluded = bpf_map_lookup_elem(&rxlat_excluded, &zero);
		if (excluded)
			(*excluded)++;
		return;
	}
	if (!HB_RATELIMIT_ALLOW(rxlat, max_per_second))
		return;
	e.stage = stage;
	e.latency_ns = delay;
	e.threshold_ns = limit;
	HB_EVENT_OUTPUT(rxlat, ctx, &e, sizeof(e));
}

static __always_inline void *network_header(struct sk_buff *skb)
{
	return hb_skb_header(skb, BPF_CORE_READ(skb, network_header));
}

/* Variant 1: BTF-typed tracepoints. */
SEC("tp_btf/netif_receive_skb")
int BPF_PROG(rxlat_btf_netif, struct sk_buff *skb)
{
	on_stage(ctx, skb, BPF_CORE_READ(skb, data), RX_STAGE_NETIF);
	return 0;
}

SEC("tp_btf/skb_copy_datagram_iovec")
int BPF_PROG(rxlat_btf_usercopy, const struct sk_buff *skb, int len)
{
	on_stage(ctx, (struct sk_buff *)skb, network_header((struct sk_buff *)skb), RX_STAGE_USERCOPY);
	return 0;
}

/* Variant 2: classic tracepoints. */
SEC("tracepoint/net/netif_receive_skb")
int rxlat_tp_netif(struct trace_event_raw_net_dev_template *ctx)
{
	struct sk_buff *skb = ctx->skbaddr;

	on_stage(ctx, skb, BPF_CORE_READ(skb, data), RX_STAGE_NETIF);
	return 0;
}

SEC("tracepoint/skb/skb_copy_datagram_iovec")
int rxlat_tp_usercopy(struct trace_event_raw_skb_copy_datagram_iovec *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx->skbaddr;

	on_stage(ctx, skb, network_header(skb), RX_STAGE_USERCOPY);
	return 0;
}

/* The TCP stage has no tracepoint: tcp_v4_rcv() through a kprobe where the kernel has them. */
SEC("kprobe/tcp_v4_rcv")
int BPF_KPROBE(rxlat_kp_tcp, struct sk_buff *skb)
{
	on_stage(ctx, skb, network_header(skb), RX_STAGE_TCP);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
