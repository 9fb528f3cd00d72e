// Pure formatting shared by the network event tracers: addresses, TCP states, link status flags, protocols.

/** An IPv4 address in its first 4 bytes (family 4) or an IPv6 address in 16 (family 6), as the kernel stores them. */
export function formatAddress(family: number, bytes: number[]): string {
  if (family === 4) return bytes.slice(0, 4).join(".");
  if (family === 6) return formatIpv6(bytes);
  return "";
}

/** RFC 5952 text: lower-case hex groups, the longest run (two or more) of zero groups as `::`, IPv4-mapped tail. */
export function formatIpv6(bytes: number[]): string {
  const groups = Array.from({ length: 8 }, (_, i) => ((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0));
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes.slice(12, 16).join(".")}`;
  }
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.at < 0) return hex.join(":");
  return `${hex.slice(0, best.at).join(":")}::${hex.slice(best.at + best.len).join(":")}`;
}

/** include/net/tcp_states.h; 0 is not a state (no socket at this point). */
const TCP_STATES = [
  "", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT1", "FIN_WAIT2", "TIME_WAIT", "CLOSE", "CLOSE_WAIT",
  "LAST_ACK", "LISTEN", "CLOSING", "NEW_SYN_RECV", "BOUND_INACTIVE",
];

export function tcpStateName(state: number): string {
  return TCP_STATES[state] || "unknown";
}

/** Values of `linkstatus` (netdev_events) and `netdev_linkstatus` (dropwatch). */
export const LINK_STATUS = {
  adminUp: "linkstatus_adminup",
  adminDown: "linkstatus_admindown",
  carrierUp: "linkstatus_carrierup",
  carrierDown: "linkstatus_carrierdown",
} as const;

/** bpf/include/hb_net.h HB_DEV_* bits. */
export const DEV_ADMIN_UP = 1;
export const DEV_CARRIER_UP = 2;

/** The current state of a device from hb_dev_status() bits: admin state first, then carrier. */
export function linkStatusOf(bits: number): string[] {
  return [
    bits & DEV_ADMIN_UP ? LINK_STATUS.adminUp : LINK_STATUS.adminDown,
    bits & DEV_CARRIER_UP ? LINK_STATUS.carrierUp : LINK_STATUS.carrierDown,
  ];
}

const IP_PROTOCOLS: Record<number, string> = { 1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6", 132: "sctp" };

export function ipProtocolName(protocol: number): string {
  return IP_PROTOCOLS[protocol] ?? String(protocol);
}
