// rtnetlink link messages for the link-state tracers: RTM_NEWLINK/RTM_DELLINK payloads decoded to what they need
// (flags, address, link kind and its nested data), and link-status transitions between two flag words.
import { attrString, parseAttrs, readU32 } from "../procfs/netlink";
import { LINK_STATUS } from "./net_format";

export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTMGRP_LINK = 1;

const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_MASTER = 10;
const IFLA_OPERSTATE = 16;
const IFLA_LINKINFO = 18;
const IFLA_INFO_KIND = 1;
const IFLA_INFO_DATA = 2;
const IFLA_INFO_SLAVE_KIND = 4;
const IFLA_INFO_SLAVE_DATA = 5;

export const IFF_UP = 0x1;
export const IFF_LOWER_UP = 0x10000;
const IFINFOMSG_LEN = 16;

/** RFC 2863 operational states (IF_OPER_*). */
const OPER_STATES = ["unknown", "notpresent", "down", "lowerlayerdown", "testing", "dormant", "up"];

export interface LinkMessage {
  index: number;
  name: string;
  /** ifinfomsg.ifi_flags: IFF_UP (admin), IFF_LOWER_UP (carrier), ... */
  flags: number;
  mac: string;
  mtu: number;
  operstate: string;
  /** Index of the master (bond, bridge), 0 without one. */
  master: number;
  /** IFLA_INFO_KIND, e.g. `veth`, `bond`; "" for physical devices. */
  kind: string;
  /** IFLA_INFO_DATA attributes of the kind (bond: IFLA_BOND_*). */
  info: Map<number, Uint8Array>;
  /** IFLA_INFO_SLAVE_KIND, e.g. `bond` for a bond's port. */
  slaveKind: string;
  /** IFLA_INFO_SLAVE_DATA attributes (bond port: IFLA_BOND_SLAVE_*). */
  slaveInfo: Map<number, Uint8Array>;
}

const hex = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(":");

/** Decodes struct ifinfomsg and the attributes the tracers use. */
export function parseLink(payload: Uint8Array): LinkMessage {
  if (payload.length < IFINFOMSG_LEN) throw new Error("short ifinfomsg");
  const view = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
  const attrs = parseAttrs(payload.subarray(IFINFOMSG_LEN));
  const linkinfo = parseAttrs(attrs.get(IFLA_LINKINFO) ?? new Uint8Array());
  const text = (a: Map<number, Uint8Array>, type: number) => (a.has(type) ? attrString(a.get(type)!) : "");
  const u32 = (type: number) => (attrs.get(type)?.length ?? 0) >= 4 ? readU32(attrs.get(type)!, 0) : 0;
  return {
    index: view.getInt32(4, true),
    flags: view.getUint32(8, true),
    name: text(attrs, IFLA_IFNAME),
    mac: attrs.has(IFLA_ADDRESS) ? hex(attrs.get(IFLA_ADDRESS)!) : "",
    mtu: u32(IFLA_MTU),
    operstate: OPER_STATES[attrs.get(IFLA_OPERSTATE)?.[0] ?? 0] ?? "unknown",
    master: u32(IFLA_MASTER),
    kind: text(linkinfo, IFLA_INFO_KIND),
    info: parseAttrs(linkinfo.get(IFLA_INFO_DATA) ?? new Uint8Array()),
    slaveKind: text(linkinfo, IFLA_INFO_SLAVE_KIND),
    slaveInfo: parseAttrs(linkinfo.get(IFLA_INFO_SLAVE_DATA) ?? new Uint8Array()),
  };
}

/** What changed between two flag words: admin state (IFF_UP) first, then carrier (IFF_LOWER_UP). */
export function linkTransitions(before: number, after: number): string[] {
  const out: string[] = [];
  const changed = before ^ after;
  if (changed & IFF_UP) out.push(after & IFF_UP ? LINK_STATUS.adminUp : LINK_STATUS.adminDown);
  if (changed & IFF_LOWER_UP) out.push(after & IFF_LOWER_UP ? LINK_STATUS.carrierUp : LINK_STATUS.carrierDown);
  return out;
}

/** The state itself, for baseline documents. */
export function linkState(flags: number): string[] {
  return [
    flags & IFF_UP ? LINK_STATUS.adminUp : LINK_STATUS.adminDown,
    flags & IFF_LOWER_UP ? LINK_STATUS.carrierUp : LINK_STATUS.carrierDown,
  ];
}
