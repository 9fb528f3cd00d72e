// SPDX-License-Identifier: GPL-2.0
/* netdev_bonding_lacp: an 802.3ad port stops collecting and distributing (bonding.ko has no tracepoints: a kprobe). */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hb_common.h"
#include "hb_net.h"
#include "netdev_bonding_lacp.h"

/* Set by the loader when the kernel has no ring buffer (before 5.8). */
const volatile bool use_perf = false;

HB_EVENT_CHANNEL(lacp, 1 << 12);
HB_EXPORT_STRUCT(netdev_bonding_lacp_event);

SEC("kprobe/ad_disable_collecting_distributing")
int BPF_KPROBE(lacp_kp_disable)
{
	struct netdev_bonding_lacp_event e = { .ktime_ns = bpf_ktime_get_ns() };

	HB_EVENT_OUTPUT(lacp, ctx, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
