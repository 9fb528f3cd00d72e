// dropwatch records to documents: the drop type, the kernel stack without tracing frames, noise rules, tracer_data.
import type { DropwatchEvent } from "../bpf/gen/dropwatch";
import type { Kallsyms } from "../procfs/kallsyms";
import type { DropReasons } from "./drop_reasons";
import { formatAddress, ipProtocolName, linkStatusOf, tcpStateName } from "./net_format";

export type DropType = "common_drop" | "syn_flood" | "listen_overflow_handshake1" | "listen_overflow_handshake3";

const TCP = 6;
const TCP_LISTEN = 10;
const FLAG_SYN = 0x02;
const FLAG_ACK = 0x10;
const TCP_FLAG_NAMES = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR"];

/**
 * HUATUO's drop types for TCP packets at a listener. 6.15+ names an accept-queue overflow on the handshake's final
 * ACK (TCP_LISTEN_OVERFLOW); older kernels are read from the listener's queues at the drop: a full request (SYN)
 * queue is a SYN flood, a full accept queue an overflow at the first or third handshake packet. A SYN dropped in
 * tcp_conn_request() is freed with consume_skb() and never reaches skb:kfree_skb.
 */
export function dropType(e: DropwatchEvent, listenOverflowReason: number | undefined): DropType {
  if (e.l4_protocol !== TCP || e.family === 0) return "common_drop";
  const syn = (e.tcp_flags & FLAG_SYN) !== 0 && (e.tcp_flags & FLAG_ACK) === 0;
  const ack = (e.tcp_flags & (FLAG_SYN | FLAG_ACK)) === FLAG_ACK;
  if (listenOverflowReason !== undefined && e.reason === listenOverflowReason) {
    return syn ? "listen_overflow_handshake1" : "listen_overflow_handshake3";
  }
  if (e.sk_state !== TCP_LISTEN || !e.max_ack_backlog) return "common_drop";
  const acceptFull = e.ack_backlog > e.max_ack_backlog;
  if (syn && e.syn_backlog >= e.max_ack_backlog) return "syn_flood";
  if (syn && acceptFull) return "listen_overflow_handshake1";
  if (ack && acceptFull) return "listen_overflow_handshake3";
  return "common_drop";
}

/** The machinery between the drop and our program: BPF trampolines, tracepoint iterators, perf glue. */
const TRACING_FRAME = /^(bpf_prog_|bpf_trace_run|__bpf_trace_|__traceiter_|perf_trace_|trace_event_raw_event_|__probestub_)/;

/** JIT-ed BPF code shows as `[bpf]`, or as a bare address when it was loaded after kallsyms was read. */
const isTracingFrame = (frame: string) => TRACING_FRAME.test(frame) || frame.endsWith(" [bpf]") || frame.startsWith("0x");

/** Symbolized frames from the first kernel frame after the tracing machinery. */
export function stackFrames(e: DropwatchEvent, symbols: Kallsyms): string[] {
  const frames = e.stack.slice(0, e.stack_depth).map((address) => symbols.format(address));
  if (!symbols.size) return frames;
  const first = frames.findIndex((frame) => !isTracingFrame(frame));
  return first < 0 ? [] : frames.slice(first);
}

/** Why a drop is known noise, or undefined: neighbour-table expiry (when excluded by config), bnxt transmit drops. */
export function noiseReason(frames: string[], location: string, excludeNeighInvalidate: boolean): string | undefined {
  if (excludeNeighInvalidate && frames.some((f) => f.startsWith("neigh_invalidate+"))) return "neigh_invalidate";
  if (/^bnxt_\w*tx\w*\+.*\[bnxt_en\]$/.test(location)) return "bnxt_tx";
  return undefined;
}

export function tcpFlagNames(flags: number): string {
  return TCP_FLAG_NAMES.filter((_, bit) => flags & (1 << bit)).join("|");
}

export interface DropContext {
  reasons: DropReasons;
  symbols: Kallsyms;
  frames: string[];
}

/** tracer_data: every field of the user guide's sample (except the reverse-DNS names), then the additions. */
export function dropwatchData(e: DropwatchEvent, ctx: DropContext): Record<string, unknown> {
  const tcp = e.l4_protocol === TCP && e.family !== 0;
  return {
    type: dropType(e, ctx.reasons.value("TCP_LISTEN_OVERFLOW")),
    comm: e.comm,
    pid: e.pid,
    saddr: formatAddress(e.family, e.saddr),
    daddr: formatAddress(e.family, e.daddr),
    sport: e.sport,
    dport: e.dport,
    max_ack_backlog: e.max_ack_backlog,
    seq: tcp ? e.seq : 0,
    ack_seq: tcp ? e.ack_seq : 0,
    pkt_len: e.pkt_len,
    sk_state: tcpStateName(e.sk_state),
    stack: ctx.frames.join("\n"),
    netdev_queue_mapping: e.queue_mapping,
    netdev_linkstatus: e.ifindex ? linkStatusOf(e.link_status) : [],
    netdev_name: e.dev_name,
    netdev_ifindex: e.ifindex,
    net_cookie: e.netns_cookie,
    drop_reason: ctx.reasons.name(e.reason),
    drop_location: ctx.symbols.format(e.location),
    protocol: e.family ? ipProtocolName(e.l4_protocol) : "",
    family: e.family ? `ipv${e.family}` : "",
    tcp_flags: tcp ? tcpFlagNames(e.tcp_flags) : "",
    ack_backlog: e.ack_backlog,
    syn_backlog: e.syn_backlog,
    net_namespace_inum: e.netns_inum,
    cpu: e.cpu,
  };
}
