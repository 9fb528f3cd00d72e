/* SPDX-License-Identifier: GPL-2.0 */
/* netdev_bonding_lacp: the kprobe record of bpf/netdev_bonding_lacp.bpf.c, decoded by src/events/netdev_bonding_lacp.ts. */
#ifndef NETDEV_BONDING_LACP_H
#define NETDEV_BONDING_LACP_H

/* Only that it happened: the bonding state is read from /proc/net/bonding, as HUATUO does. */
struct netdev_bonding_lacp_event {
	__u64 ktime_ns;
};

#endif /* NETDEV_BONDING_LACP_H */
