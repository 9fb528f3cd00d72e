// net_rx_latency: TCP packets whose delay since the driver stamped them passes a per-stage threshold: at
// netif_receive_skb (Driver2NetRx), tcp_v4_rcv (Driver2TCP, kprobe only) and the copy to the reader (Driver2Userspace).
import {
  decodeNetRxLatencyEvent as decode,
  netRxLatencyConfigLayout as settingsLayout,
  type NetRxLatencyEvent,
} from "../bpf/gen/net_rx_latency";
import type { HookKind, HookSpec } from "../bpf/hooks";
import type { LoadOptions, TracerBpf } from "../bpf/loader";
import type { BpfMap } from "../bpf/maps";
import { constant } from "../bpf/object";
import type { Config } from "../config/schema";
import { registerTracer } from "../framework/registry";
import type { Emitter, Tracer, TracerContext } from "../framework/types";
import { containerByNetns, describeHooks, EventStream, loadEventObject, netnsInode } from "./net_common";
import { closeFd, monoToWallOffsetNs, openRxTimestampSocket } from "./net_libc";
import { knownIssue, rxLatencyData, rxLatencyTitle } from "./net_rx_latency_format";

const NAME = "net_rx_latency";
/** Slow packets reported per second, all CPUs together (the original's BPF limit). */
export const MAX_EVENTS_PER_SECOND = 100;

const candidate = (kind: HookKind, program: string, target: string) => ({ kind, program, target });
const tracepoint = (name: string, target: string, program: string): HookSpec => ({
  name,
  candidates: [candidate("tp_btf", `rxlat_btf_${program}`, target), candidate("tracepoint", `rxlat_tp_${program}`, target)],
});

/**
 * The TCP stage is optional: no tracepoint exists for tcp_v4_rcv, so without kprobes the tracer runs the other two
 * stages and its hook string says `unsupported tcp_v4_rcv (<why>)`.
 */
export const RX_HOOKS: HookSpec[] = [
  tracepoint("netif_receive_skb", "net/netif_receive_skb", "netif"),
  { name: "tcp_v4_rcv", candidates: [candidate("kprobe", "rxlat_kp_tcp", "tcp_v4_rcv")], optional: true },
  tracepoint("skb_copy_datagram_iovec", "skb/skb_copy_datagram_iovec", "usercopy"),
];

export function rxLatencyBpf(monoWallOffsetNs: bigint): TracerBpf {
  return {
    object: NAME,
    hooks: RX_HOOKS,
    constants: {
      mono_wall_offset: constant.u64(BigInt.asUintN(64, monoWallOffsetNs)),
      max_per_second: constant.u64(MAX_EVENTS_PER_SECOND),
    },
    events: { ringbuf: "rxlat_rb", perfbuf: "rxlat_pb", perfFlag: "use_perf" },
  };
}

/**
 * struct net_rx_latency_config: per-stage thresholds in ns, and the host's netns inode when
 * ExcludedHostNetnamespace is on (skipped in BPF, before the rate limit, so host traffic cannot crowd out containers).
 */
export function rxLatencySettings(config: Config["EventTracing"]["NetRxLatency"], hostNetns: number): Buffer {
  const { fields } = settingsLayout;
  const out = Buffer.alloc(settingsLayout.size);
  const ns = (ms: number) => BigInt(ms) * 1_000_000n;
  out.writeBigUInt64LE(ns(config.Driver2NetRx), fields.netif_ns.offset);
  out.writeBigUInt64LE(ns(config.Driver2TCP), fields.tcp_ns.offset);
  out.writeBigUInt64LE(ns(config.Driver2Userspace), fields.usercopy_ns.offset);
  out.writeUInt32LE(config.ExcludedHostNetnamespace ? hostNetns : 0, fields.excluded_netns.offset);
  return out;
}

const sumPerCpu = (map: BpfMap) => Number(map.lookup(new Uint8Array(4))?.readBigUInt64LE(0) ?? 0n);

class RxLatency {
  excluded = 0;

  constructor(
    private readonly ctx: TracerContext,
    private readonly maps: { limited: BpfMap; excluded: BpfMap },
  ) {}

  /** Excluded QoS classes are skipped (the host namespace already was, in BPF); a known issue only tags the document. */
  onEvent(e: NetRxLatencyEvent): void {
    const config = this.ctx.config.get().EventTracing;
    const rx = config.NetRxLatency;
    const container = containerByNetns(this.ctx.containers, e.netns_inum);
    if (container && rx.ExcludedContainerQos.includes(container.qos)) {
      this.excluded++;
      return;
    }
    const data = rxLatencyData(e, knownIssue(rxLatencyTitle(e), config.IssuesList));
    this.ctx.events.save({ tracerName: NAME, data, container });
  }

  emit(emit: Emitter, lost: number): void {
    const excluded = this.excluded + sumPerCpu(this.maps.excluded);
    emit.counter("ratelimited_total", `slow packets not reported: over the limit of ${MAX_EVENTS_PER_SECOND}/s`, sumPerCpu(this.maps.limited));
    emit.counter("lost_total", "slow-packet records the kernel could not deliver (buffer full)", lost);
    emit.counter("excluded_total", "slow packets not reported: host namespace or excluded container QoS", excluded);
  }
}

export async function createNetRxLatency(ctx: TracerContext, options: LoadOptions = {}): Promise<Tracer> {
  // PID 1's namespace is the host's; where /proc/1/ns is hidden from us (a sandboxed init), the agent's own,
  // which a host-network agent shares
  const hostNetns = (await netnsInode(1)) || (await netnsInode("self"));
  const object = await loadEventObject(rxLatencyBpf(monoToWallOffsetNs()), options);
  const settings = object.map("rxlat_config");
  const apply = (config: Config) => settings.update(new Uint8Array(4), rxLatencySettings(config.EventTracing.NetRxLatency, hostNetns));
  apply(ctx.config.get());
  const unsubscribe = ctx.config.onChange(apply);
  // held while the tracer lives: without it most skbs carry no receive timestamp to measure from
  let stampFd: number;
  try {
    stampFd = openRxTimestampSocket();
  } catch (err) {
    unsubscribe();
    object.close();
    throw err;
  }
  const channel = new EventStream(object, decode);
  const tracer = new RxLatency(ctx, { limited: object.map("rxlat_limited"), excluded: object.map("rxlat_excluded") });
  return {
    hook: describeHooks(object),
    collector: { collect: (emit) => tracer.emit(emit, channel.lost) },
    run: (signal) => channel.pump((e) => tracer.onEvent(e), signal),
    close() {
      unsubscribe();
      closeFd(stampFd);
      object.close();
    },
  };
}

registerTracer({
  name: NAME,
  kind: "event",
  description: "TCP receive-path latency per stage (net:netif_receive_skb, tcp_v4_rcv, skb:skb_copy_datagram_iovec)",
  create: (ctx) => createNetRxLatency(ctx),
});
