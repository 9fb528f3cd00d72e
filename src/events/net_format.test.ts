// Pure formatting of the network tracers: addresses, TCP states, link status, and net_rx_latency's title,
// known-issue tags and tracer_data.
import { describe, expect, test } from "bun:test";
import type { NetRxLatencyEvent } from "../bpf/gen/net_rx_latency";
import { formatAddress, formatIpv6, ipProtocolName, linkStatusOf, tcpStateName } from "./net_format";
import { knownIssue, rxLatencyData, rxLatencyTitle, stageName } from "./net_rx_latency_format";

const v6 = (hex: string) => Array.from(Buffer.from(hex, "hex"));

describe("addresses", () => {
  test("IPv4 from the first four bytes", () => {
    expect(formatAddress(4, [10, 0, 0, 1, 9, 9, 9, 9])).toBe("10.0.0.1");
    expect(formatAddress(0, [])).toBe("");
  });

  test("IPv6 in RFC 5952 form", () => {
    expect(formatIpv6(v6("00000000000000000000000000000001"))).toBe("::1");
    expect(formatIpv6(v6("20010db8000000000001000000000001"))).toBe("2001:db8::1:0:0:1");
    expect(formatIpv6(v6("20010db8000100020003000400050006"))).toBe("2001:db8:1:2:3:4:5:6");
    expect(formatIpv6(v6("00000000000000000000ffff0a000001"))).toBe("::ffff:10.0.0.1");
    expect(formatIpv6(v6("fe800000000000000000000000000000"))).toBe("fe80::");
  });

  test("states, protocols, link status", () => {
    expect([tcpStateName(1), tcpStateName(10), tcpStateName(0), tcpStateName(99)]).toEqual(["ESTABLISHED", "LISTEN", "unknown", "unknown"]);
    expect([ipProtocolName(6), ipProtocolName(17), ipProtocolName(47)]).toEqual(["tcp", "udp", "47"]);
    expect(linkStatusOf(1)).toEqual(["linkstatus_adminup", "linkstatus_carrierdown"]);
  });
});

const slow: NetRxLatencyEvent = {
  netns_cookie: 7n,
  latency_ns: 95_973_123_456,
  threshold_ns: 115_000_000,
  pid: 2921092,
  netns_inum: 4026532246,
  pkt_len: 26064,
  seq: 1009085774,
  ack_seq: 689410995,
  ifindex: 0,
  sport: 9213,
  dport: 49000,
  family: 4,
  stage: 3,
  sk_state: 1,
  saddr: [10, 156, 248, 76, ...new Array(12).fill(0)],
  daddr: [10, 134, 72, 4, ...new Array(12).fill(0)],
  comm: "nginx",
  dev_name: "",
};

describe("net_rx_latency documents", () => {
  test("stage names of the user guide", () => {
    expect([1, 2, 3, 9].map(stageName)).toEqual(["TO_NETIF_RCV", "TO_TCPV4_RCV", "TO_USER_COPY", "STAGE_9"]);
  });

  test("the original's title, which IssuesList patterns match", () => {
    const title = rxLatencyTitle(slow);
    expect(title).toBe(
      "comm=nginx:2921092 to=TO_USER_COPY lat(ms)=95973.12 state=ESTABLISHED saddr=10.156.248.76 sport=9213 " +
        "daddr=10.134.72.4 dport=49000 seq=1009085774 ackSeq=689410995 packetLenBytes=26064",
    );
    expect(knownIssue(title, [["other", "comm=java"], ["nginx_backlog", "comm=nginx:\\d+ to=TO_USER_COPY"]])).toBe("nginx_backlog");
    expect(knownIssue(title, [["other", "comm=java"]])).toBeUndefined();
  });

  test("tracer_data: the sample's fields, then the additions; the tag only when an issue matched", () => {
    expect(rxLatencyData(slow, undefined)).toEqual({
      comm: "nginx",
      pid: 2921092,
      where: "TO_USER_COPY",
      latency_ms: 95973.123,
      state: "ESTABLISHED",
      saddr: "10.156.248.76",
      daddr: "10.134.72.4",
      sport: 9213,
      dport: 49000,
      seq: 1009085774,
      ack_seq: 689410995,
      pkt_len: 26064,
      latency_threshold_ms: 115,
      family: "ipv4",
      netdev_name: "",
      netdev_ifindex: 0,
      net_namespace_inum: 4026532246,
      net_cookie: 7n,
    });
    expect(rxLatencyData({ ...slow, comm: "", pid: 0, stage: 1 }, "known").known_issue).toBe("known");
    expect(rxLatencyData({ ...slow, comm: "", pid: 0, stage: 1 }, undefined).comm).toBe("-");
  });
});
