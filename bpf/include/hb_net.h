/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers of the network event tracers: a global rate limit, netns ids, skb headers (output is hb_channel.h). */
#ifndef HB_NET_H
#define HB_NET_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "hb_channel.h"

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define IPPROTO_TCP_	6
#define IPPROTO_UDP_	17

/*
 * A global limit of events per second: a fixed one-second window shared by all CPUs. Without atomic
 * compare-and-exchange (BPF ISA v3, 5.12+) two CPUs may both open a new window, which lets a few extra
 * events through at a window edge; the count of refused events is per CPU and exact.
 */
struct hb_window {
	__u64 start_ns;
	__u64 count;
};

#define HB_RATELIMIT_MAPS(name)							\
	struct {								\
		__uint(type, BPF_MAP_TYPE_ARRAY);				\
		__uint(max_entries, 1);						\
		__type(key, __u32);						\
		__type(value, struct hb_window);				\
	} name##_window SEC(".maps");						\
	struct {								\
		__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);			\
		__uint(max_entries, 1);						\
		__type(key, __u32);						\
		__type(value, __u64);						\
	} name##_limited SEC(".maps")

#define NSEC_PER_SEC 1000000000ULL

/* per_second == 0: unlimited. */
#define HB_RATELIMIT_ALLOW(name, per_second)					\
	({									\
		__u32 __zero = 0;						\
		bool __ok = true;						\
		struct hb_window *__w = bpf_map_lookup_elem(&name##_window, &__zero); \
		__u64 *__refused = bpf_map_lookup_elem(&name##_limited, &__zero); \
		if ((per_second) && __w && __refused) {				\
			__u64 __now = bpf_ktime_get_ns();			\
			if (__now - __w->start_ns >= NSEC_PER_SEC) {		\
				__w->start_ns = __now;				\
				__w->count = 0;					\
			}							\
			if (__w->count >= (per_second)) {			\
				(*__refused)++;					\
				__ok = false;					\
			} else {						\
				__sync_fetch_and_add(&__w->count, 1);		\
			}							\
		}								\
		__ok;								\
	})

/* Network namespace ids: the proc inode (ls -l /proc/<pid>/ns/net) and the cookie (net_cookie is a u64 since 5.12). */
static __always_inline void hb_net_ids(struct net *net, __u32 *inum, __u64 *cookie)
{
	if (!net)
		return;
	*inum = BPF_CORE_READ(net, ns.inum);
	if (bpf_core_field_exists(net->net_cookie) && bpf_core_field_size(net->net_cookie) == 8)
		*cookie = BPF_CORE_READ(net, net_cookie);
}

static __always_inline struct net *hb_dev_net(struct net_device *dev)
{
	return dev ? BPF_CORE_READ(dev, nd_net.net) : NULL;
}

static __always_inline struct net *hb_sk_net(struct sock *sk)
{
	return sk ? BPF_CORE_READ(sk, __sk_common.skc_net.net) : NULL;
}

/* netdev_drivername(): the bound driver of the device's parent, "" for virtual devices. */
static __always_inline void hb_dev_driver(struct net_device *dev, char *out, __u32 size)
{
	const char *name = BPF_CORE_READ(dev, dev.parent, driver, name);

	if (name)
		bpf_probe_read_kernel_str(out, size, name);
}

/* Bits of hb_dev_status(). */
#define HB_DEV_ADMIN_UP		1
#define HB_DEV_CARRIER_UP	2
#define IFF_UP_			0x1

static __always_inline __u8 hb_dev_status(struct net_device *dev)
{
	unsigned long state = BPF_CORE_READ(dev, state);
	__u8 status = 0;

	if (BPF_CORE_READ(dev, flags) & IFF_UP_)
		status |= HB_DEV_ADMIN_UP;
	if (!(state & (1UL << bpf_core_enum_value(enum netdev_state_t, __LINK_STATE_NOCARRIER))))
		status |= HB_DEV_CARRIER_UP;
	return status;
}

/* skb->head + a header offset (mac_header, network_header, transport_header). */
static __always_inline void *hb_skb_header(struct sk_buff *skb, __u16 offset)
{
	return BPF_CORE_READ(skb, head) + offset;
}

/* The transport header is "unset" while it still holds (u16)~0U. */
static __always_inline bool hb_skb_transport_set(struct sk_buff *skb)
{
	return BPF_CORE_READ(skb, transport_header) != (__u16)~0U;
}

#endif /* HB_NET_H */
