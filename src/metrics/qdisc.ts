// netdev_qdisc: statistics of each device's root queueing discipline, from an rtnetlink RTM_GETQDISC dump
// of the agent's network namespace, filtered by [MetricCollector.Qdisc] DeviceIncluded/DeviceExcluded.
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector, TracerContext } from "../framework/types";
import { attrString, dumpLinks, parseAttrs, readU32, readU64, rtnetlinkDump } from "../procfs/netlink";
import { passesFilter } from "./filter";

const RTM_NEWQDISC = 36;
const RTM_GETQDISC = 38;
const TCMSG_LEN = 20;
const TC_H_ROOT = 0xffffffff;
const TCA_KIND = 1;
const TCA_STATS = 3;
const TCA_STATS2 = 7;
const TCA_STATS_BASIC = 1;
const TCA_STATS_QUEUE = 3;
const TCA_STATS_PKT64 = 8;

export interface QdiscStats {
  ifindex: number;
  parent: number;
  kind: string;
  bytes: number;
  packets: number;
  drops: number;
  requeues: number;
  overlimits: number;
  qlen: number;
  backlog: number;
}

/** Decodes an RTM_NEWQDISC payload: struct tcmsg, then TCA_* attributes. */
export function parseQdiscMessage(payload: Uint8Array): QdiscStats {
  if (payload.length < TCMSG_LEN) throw new Error("qdisc: short tcmsg");
  const attrs = parseAttrs(payload.subarray(TCMSG_LEN));
  const kind = attrs.get(TCA_KIND);
  const head = { ifindex: readU32(payload, 4), parent: readU32(payload, 12), kind: kind ? attrString(kind) : "" };
  const stats2 = attrs.get(TCA_STATS2);
  const legacy = attrs.get(TCA_STATS);
  if (stats2) return { ...head, ...parseStats2(stats2) };
  if (legacy) return { ...head, ...parseLegacyStats(legacy) };
  return { ...head, bytes: 0, packets: 0, drops: 0, requeues: 0, overlimits: 0, qlen: 0, backlog: 0 };
}

type Counters = Omit<QdiscStats, "ifindex" | "parent" | "kind">;

/** TCA_STATS2 (gnet_stats): basic {u64 bytes, u32 packets} and queue {qlen, backlog, drops, requeues, overlimits}. */
function parseStats2(data: Uint8Array): Counters {
  const nested = parseAttrs(data);
  const basic = nested.get(TCA_STATS_BASIC);
  const queue = nested.get(TCA_STATS_QUEUE);
  // Kernels that know TCA_STATS_PKT64 add it only when the packet count no longer fits basic's u32.
  const pkt64 = nested.get(TCA_STATS_PKT64);
  const q = (offset: number) => (queue && queue.length >= 20 ? readU32(queue, offset) : 0);
  return {
    bytes: basic && basic.length >= 12 ? readU64(basic, 0) : 0,
    packets: pkt64 && pkt64.length >= 8 ? readU64(pkt64, 0) : basic && basic.length >= 12 ? readU32(basic, 8) : 0,
    qlen: q(0),
    backlog: q(4),
    drops: q(8),
    requeues: q(12),
    overlimits: q(16),
  };
}

/** The pre-2.6.16 struct tc_stats, still sent alongside TCA_STATS2; it has no requeue count. */
function parseLegacyStats(data: Uint8Array): Counters {
  if (data.length < 36) return { bytes: 0, packets: 0, drops: 0, requeues: 0, overlimits: 0, qlen: 0, backlog: 0 };
  return {
    bytes: readU64(data, 0),
    packets: readU32(data, 8),
    drops: readU32(data, 12),
    overlimits: readU32(data, 16),
    requeues: 0,
    qlen: readU32(data, 28),
    backlog: readU32(data, 32),
  };
}

/** Root qdiscs worth reporting: `noqueue` (lo, veth, bridges) never queues, so it has nothing to say. */
export function rootQdiscs(all: QdiscStats[]): QdiscStats[] {
  return all.filter((q) => q.parent === TC_H_ROOT && q.kind !== "noqueue");
}

export function dumpQdiscs(): QdiscStats[] {
  return rtnetlinkDump(RTM_GETQDISC, new Uint8Array(TCMSG_LEN))
    .filter((m) => m.type === RTM_NEWQDISC)
    .map((m) => parseQdiscMessage(m.payload));
}

export function emitQdisc(emit: Emitter, q: QdiscStats, device: string): void {
  const labels = { device, kind: q.kind };
  emit.gauge("backlog", "Number of bytes currently in queue to be sent.", q.backlog, labels);
  emit.counter("bytes_total", "Number of bytes sent.", q.bytes, labels);
  emit.gauge("current_queue_length", "Number of packets currently in queue to be sent.", q.qlen, labels);
  emit.counter("drops_total", "Number of packet drops.", q.drops, labels);
  emit.counter("overlimits_total", "Number of packet overlimits.", q.overlimits, labels);
  emit.counter("packets_total", "Number of packets sent.", q.packets, labels);
  emit.counter("requeues_total", "Number of packets dequeued, not transmitted, and requeued.", q.requeues, labels);
}

class QdiscCollector implements MetricCollector {
  constructor(private readonly ctx: TracerContext) {}

  collect(emit: Emitter): void {
    const { DeviceIncluded, DeviceExcluded } = this.ctx.config.get().MetricCollector.Qdisc;
    const names = new Map(dumpLinks().map((link) => [link.index, link.name]));
    for (const q of rootQdiscs(dumpQdiscs())) {
      const device = names.get(q.ifindex);
      // A device removed between the two dumps has no name any more: skip it rather than label it by number.
      if (device === undefined || !passesFilter(device, DeviceIncluded, DeviceExcluded)) continue;
      emitQdisc(emit, q, device);
    }
  }
}

registerTracer({
  name: "netdev_qdisc",
  kind: "metric",
  description: "root qdisc statistics per network device, via rtnetlink",
  create: (ctx) => ({ hook: "netlink", collector: new QdiscCollector(ctx) }),
});
