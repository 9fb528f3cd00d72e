// net_rx_latency records to documents: stage names, the original's title line (what IssuesList patterns match),
// and tracer_data with the user guide's fields.
import type { NetRxLatencyEvent } from "../bpf/gen/net_rx_latency";
import { formatAddress, tcpStateName } from "./net_format";

/** bpf/include/net_rx_latency.h enum rx_stage → the user guide's `where` values. */
const STAGES: Record<number, string> = { 1: "TO_NETIF_RCV", 2: "TO_TCPV4_RCV", 3: "TO_USER_COPY" };

export function stageName(stage: number): string {
  return STAGES[stage] ?? `STAGE_${stage}`;
}

const ms = (ns: number) => Math.round(ns / 1e3) / 1e3;

/** The original's one-line title, so IssuesList patterns written for it keep matching. */
export function rxLatencyTitle(e: NetRxLatencyEvent): string {
  return (
    `comm=${e.comm || "-"}:${e.pid} to=${stageName(e.stage)} lat(ms)=${(e.latency_ns / 1e6).toFixed(2)} ` +
    `state=${tcpStateName(e.sk_state)} saddr=${formatAddress(e.family, e.saddr)} sport=${e.sport} ` +
    `daddr=${formatAddress(e.family, e.daddr)} dport=${e.dport} seq=${e.seq} ackSeq=${e.ack_seq} packetLenBytes=${e.pkt_len}`
  );
}

/** The name of the first known issue whose pattern matches the title. */
export function knownIssue(title: string, issues: ReadonlyArray<readonly [string, string]>): string | undefined {
  return issues.find(([, pattern]) => new RegExp(pattern).test(title))?.[0];
}

/** tracer_data: the user guide's sample fields, then the additions. */
export function rxLatencyData(e: NetRxLatencyEvent, issue: string | undefined): Record<string, unknown> {
  return {
    comm: e.comm || "-",
    pid: e.pid,
    where: stageName(e.stage),
    latency_ms: ms(e.latency_ns),
    state: tcpStateName(e.sk_state),
    saddr: formatAddress(e.family, e.saddr),
    daddr: formatAddress(e.family, e.daddr),
    sport: e.sport,
    dport: e.dport,
    seq: e.seq,
    ack_seq: e.ack_seq,
    pkt_len: e.pkt_len,
    latency_threshold_ms: ms(e.threshold_ns),
    family: `ipv${e.family}`,
    netdev_name: e.dev_name,
    netdev_ifindex: e.ifindex,
    net_namespace_inum: e.netns_inum,
    net_cookie: e.netns_cookie,
    ...(issue && { known_issue: issue }),
  };
}
