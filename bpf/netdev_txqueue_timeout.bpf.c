// SPDX-License-Identifier: GPL-2.0
/* netdev_txqueue_timeout: the watchdog found a stopped transmit queue (net:net_dev_xmit_timeout, 4.17+). */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "hb_common.h"
#include "hb_net.h"
#include "netdev_txqueue_timeout.h"

/* Set by the loader when the kernel has no ring buffer (before 5.8). */
const volatile bool use_perf = false;

HB_EVENT_CHANNEL(txqto, 1 << 16);
HB_EXPORT_STRUCT(netdev_txqueue_timeout_event);

/* Variant 1: BTF-typed tracepoint; the device itself gives its netns and link state too. */
SEC("tp_btf/net_dev_xmit_timeout")
int BPF_PROG(txqto_btf, struct net_device *dev, int queue_index)
{
	struct netdev_txqueue_timeout_event e = {};

	e.queue_index = queue_index;
	e.ifindex = BPF_CORE_READ(dev, ifindex);
	e.link_status = hb_dev_status(dev);
	hb_net_ids(hb_dev_net(dev), &e.netns_inum, &e.netns_cookie);
	bpf_probe_read_kernel_str(e.name, sizeof(e.name), dev->name);
	hb_dev_driver(dev, e.driver, sizeof(e.driver));
	HB_EVENT_OUTPUT(txqto, ctx, &e, sizeof(e));
	return 0;
}

/* Variant 2: the classic tracepoint; its record only has the names and the queue. */
SEC("tracepoint/net/net_dev_xmit_timeout")
int txqto_tp(struct trace_event_raw_net_dev_xmit_timeout *ctx)
{
	struct netdev_txqueue_timeout_event e = {};

	e.queue_index = ctx->queue_index;
	hb_data_loc_str(ctx, ctx->__data_loc_name, e.name, sizeof(e.name));
	hb_data_loc_str(ctx, ctx->__data_loc_driver, e.driver, sizeof(e.driver));
	HB_EVENT_OUTPUT(txqto, ctx, &e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
