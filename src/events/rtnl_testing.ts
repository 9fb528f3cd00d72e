// Test helpers for the rtnetlink tracers: RTM_NEWLINK payloads laid out as the kernel sends them (struct ifinfomsg,
// then attributes, IFLA_LINKINFO nested), following uapi linux/rtnetlink.h and linux/if_link.h.
import { concatBytes, encodeAttr, encodeString } from "../procfs/netlink";

export interface LinkSpec {
  index: number;
  name: string;
  flags: number;
  mac?: number[];
  mtu?: number;
  operstate?: number;
  master?: number;
  kind?: string;
  info?: Uint8Array[];
  slaveKind?: string;
  slaveInfo?: Uint8Array[];
}

const NLA_F_NESTED = 0x8000;

export const u8Attr = (type: number, v: number) => encodeAttr(type, Uint8Array.of(v));
export const u16Attr = (type: number, v: number) => encodeAttr(type, Uint8Array.of(v & 0xff, v >> 8));
export function u32Attr(type: number, v: number): Uint8Array {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, v, true);
  return encodeAttr(type, data);
}
const nested = (type: number, parts: Uint8Array[]) => encodeAttr(type | NLA_F_NESTED, concatBytes(parts));

export function linkPayload(spec: LinkSpec): Uint8Array {
  const header = new Uint8Array(16);
  const view = new DataView(header.buffer);
  view.setInt32(4, spec.index, true);
  view.setUint32(8, spec.flags, true);
  const linkinfo: Uint8Array[] = [];
  if (spec.kind) linkinfo.push(encodeAttr(1, encodeString(spec.kind)));
  if (spec.info) linkinfo.push(nested(2, spec.info));
  if (spec.slaveKind) linkinfo.push(encodeAttr(4, encodeString(spec.slaveKind)));
  if (spec.slaveInfo) linkinfo.push(nested(5, spec.slaveInfo));
  return concatBytes([
    header,
    encodeAttr(3, encodeString(spec.name)),
    ...(spec.mac ? [encodeAttr(1, Uint8Array.from(spec.mac))] : []),
    u32Attr(4, spec.mtu ?? 1500),
    u8Attr(16, spec.operstate ?? 0),
    ...(spec.master ? [u32Attr(10, spec.master)] : []),
    ...(linkinfo.length ? [nested(18, linkinfo)] : []),
  ]);
}
