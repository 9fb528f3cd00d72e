// A minimal synchronous netlink client over libc (ffi-rs): rtnetlink on one NETLINK_ROUTE socket per request, and
// generic netlink family lookup by name; fixed-size receive buffer, receive timeout; plus pure encoders and parsers
// for messages and attributes.
import { DataType, define, open } from "ffi-rs";
import { errnoText } from "../sys/errno";

export const NLM_F_REQUEST = 0x1;
export const NLM_F_DUMP = 0x300;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
const IFLA_IFNAME = 3;
const IFLA_STATS64 = 23;

const NLMSG_HDRLEN = 16;
const NLA_HDRLEN = 4;
/** Attribute type bits that are flags (NLA_F_NESTED, NLA_F_NET_BYTEORDER), not part of the type. */
const NLA_TYPE_MASK = 0x3fff;

const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;
export const NETLINK_GENERIC = 16;
const SOL_SOCKET = 1;
/** SO_RCVTIMEO on x86_64 and arm64 (asm-generic); its struct timeval is two 64-bit longs there. */
const SO_RCVTIMEO = 20;
/** With MSG_TRUNC a netlink recv returns the full datagram length, so truncation is detectable. */
const MSG_TRUNC = 0x20;
const EINTR = 4;
const EAGAIN = 11;

/** One datagram; the kernel caps dump skbs at 32 KiB unless a single message needs more. */
const RECV_BUFFER_BYTES = 64 * 1024;
/** Upper bound on one dump, so a misbehaving peer cannot make a scrape read forever. */
const MAX_DUMP_BYTES = 64 * 1024 * 1024;
const RECV_TIMEOUT_SECONDS = 2;

export interface NetlinkMessage {
  type: number;
  flags: number;
  seq: number;
  pid: number;
  /** The bytes after the 16-byte nlmsghdr. */
  payload: Uint8Array;
}

/** A failed netlink call, with the kernel's (or libc's) errno. */
export class NetlinkError extends Error {
  override name = "NetlinkError";
  constructor(
    readonly step: string,
    readonly errno: number,
    detail: string,
  ) {
    super(`netlink ${step}: ${detail}`);
  }
}

const align4 = (n: number): number => (n + 3) & ~3;

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Encode one netlink message (host byte order, as netlink uses). */
export function encodeMessage(type: number, flags: number, seq: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(NLMSG_HDRLEN + align4(payload.length));
  const v = view(out);
  v.setUint32(0, NLMSG_HDRLEN + payload.length, true);
  v.setUint16(4, type, true);
  v.setUint16(6, flags, true);
  v.setUint32(8, seq, true);
  v.setUint32(12, 0, true);
  out.set(payload, NLMSG_HDRLEN);
  return out;
}

/** Encode one route attribute, padded to 4 bytes. */
export function encodeAttr(type: number, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(align4(NLA_HDRLEN + data.length));
  const v = view(out);
  v.setUint16(0, NLA_HDRLEN + data.length, true);
  v.setUint16(2, type, true);
  out.set(data, NLA_HDRLEN);
  return out;
}

/** A NUL-terminated string attribute value. */
export function encodeString(text: string): Uint8Array {
  const bytes = new TextEncoder().encode(text);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

export function concatBytes(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Split a datagram into messages; throws on a length that runs past the buffer. */
export function parseMessages(buf: Uint8Array): NetlinkMessage[] {
  const v = view(buf);
  const messages: NetlinkMessage[] = [];
  let offset = 0;
  while (offset + NLMSG_HDRLEN <= buf.length) {
    const len = v.getUint32(offset, true);
    if (len < NLMSG_HDRLEN || offset + len > buf.length) {
      throw new NetlinkError("parse", 0, `bad message length ${len} at offset ${offset}`);
    }
    messages.push({
      type: v.getUint16(offset + 4, true),
      flags: v.getUint16(offset + 6, true),
      seq: v.getUint32(offset + 8, true),
      pid: v.getUint32(offset + 12, true),
      payload: buf.subarray(offset + NLMSG_HDRLEN, offset + len),
    });
    offset += align4(len);
  }
  return messages;
}

/** Route attributes by type (flag bits stripped; a repeated type keeps the last). Stops at a malformed tail. */
export function parseAttrs(buf: Uint8Array): Map<number, Uint8Array> {
  const v = view(buf);
  const attrs = new Map<number, Uint8Array>();
  let offset = 0;
  while (offset + NLA_HDRLEN <= buf.length) {
    const len = v.getUint16(offset, true);
    if (len < NLA_HDRLEN || offset + len > buf.length) break;
    attrs.set(v.getUint16(offset + 2, true) & NLA_TYPE_MASK, buf.subarray(offset + NLA_HDRLEN, offset + len));
    offset += align4(len);
  }
  return attrs;
}

export function attrString(data: Uint8Array): string {
  const end = data.indexOf(0);
  return new TextDecoder().decode(end < 0 ? data : data.subarray(0, end));
}

export function readU32(data: Uint8Array, offset: number): number {
  return view(data).getUint32(offset, true);
}

/** u64 counters as numbers: exact below 2^53, which is what Prometheus' float64 keeps anyway. */
export function readU64(data: Uint8Array, offset: number): number {
  return Number(view(data).getBigUint64(offset, true));
}

/** The negative errno in an NLMSG_ERROR or NLMSG_DONE payload (0 = an ACK / a clean end). */
export function messageErrno(msg: NetlinkMessage): number {
  return msg.payload.length >= 4 ? -view(msg.payload).getInt32(0, true) : 0;
}

// --- rtnetlink links -------------------------------------------------------------------------------

/** struct rtnl_link_stats64 fields in kernel order; rx_nohandler appeared in 4.6, rx_otherhost_dropped in 5.19. */
export const LINK_STATS64_FIELDS = [
  "rx_packets", "tx_packets", "rx_bytes", "tx_bytes", "rx_errors", "tx_errors", "rx_dropped", "tx_dropped",
  "multicast", "collisions", "rx_length_errors", "rx_over_errors", "rx_crc_errors", "rx_frame_errors",
  "rx_fifo_errors", "rx_missed_errors", "tx_aborted_errors", "tx_carrier_errors", "tx_fifo_errors",
  "tx_heartbeat_errors", "tx_window_errors", "rx_compressed", "tx_compressed", "rx_nohandler",
  "rx_otherhost_dropped",
] as const;
export type LinkStats64 = Partial<Record<(typeof LINK_STATS64_FIELDS)[number], number>>;

export interface LinkInfo {
  index: number;
  name: string;
  /** Absent when the kernel sent no IFLA_STATS64 (it always does since 2.6.35). */
  stats?: LinkStats64;
}

const IFINFOMSG_LEN = 16;

/** Decode IFLA_STATS64, keeping only the fields this kernel's struct has. */
export function parseLinkStats64(data: Uint8Array): LinkStats64 {
  const stats: LinkStats64 = {};
  LINK_STATS64_FIELDS.forEach((field, i) => {
    if ((i + 1) * 8 <= data.length) stats[field] = readU64(data, i * 8);
  });
  return stats;
}

/** Decode an RTM_NEWLINK payload: struct ifinfomsg, then attributes. */
export function parseLinkMessage(payload: Uint8Array): LinkInfo {
  if (payload.length < IFINFOMSG_LEN) throw new NetlinkError("parse", 0, "short ifinfomsg");
  const attrs = parseAttrs(payload.subarray(IFINFOMSG_LEN));
  const name = attrs.get(IFLA_IFNAME);
  const stats = attrs.get(IFLA_STATS64);
  return {
    index: view(payload).getInt32(4, true),
    name: name ? attrString(name) : "",
    stats: stats ? parseLinkStats64(stats) : undefined,
  };
}

/** Every link of the agent's network namespace, with 64-bit statistics. */
export function dumpLinks(): LinkInfo[] {
  return rtnetlinkDump(RTM_GETLINK, new Uint8Array(IFINFOMSG_LEN))
    .filter((m) => m.type === RTM_NEWLINK)
    .map((m) => parseLinkMessage(m.payload));
}

// --- socket I/O ------------------------------------------------------------------------------------

const LIBRARY = "libc-netlink";
type Call = (args: unknown[]) => { value: number; errnoCode: number };
interface Libc {
  socket: Call;
  bind: Call;
  setsockopt: Call;
  send: Call;
  recv: Call;
  close: Call;
}
let libc: Libc | undefined;

function loadLibc(): Libc {
  if (libc) return libc;
  open({ library: LIBRARY, path: "libc.so.6" });
  const { I32, I64, U8Array } = DataType;
  // int-returning calls must be read as I32: an int -1 read as 64 bits would be 4294967295, not an error.
  const fn = (retType: DataType, paramsType: DataType[]) => ({ library: LIBRARY, retType, paramsType, errno: true });
  libc = define({
    socket: fn(I32, [I32, I32, I32]),
    bind: fn(I32, [I32, U8Array, I32]),
    setsockopt: fn(I32, [I32, I32, I32, U8Array, I32]),
    send: fn(I64, [I32, U8Array, I64, I32]),
    recv: fn(I64, [I32, U8Array, I64, I32]),
    close: fn(I32, [I32]),
  }) as unknown as Libc;
  return libc;
}

function check(step: string, result: { value: number; errnoCode: number }): number {
  if (result.value < 0) throw new NetlinkError(step, result.errnoCode, errnoText(result.errnoCode));
  return result.value;
}

/**
 * A bound netlink socket of one protocol with a receive timeout, so a silent kernel cannot hang a scrape. Reusable
 * for many requests in turn; close() it when done.
 */
export class NetlinkSocket {
  private readonly buf = new Uint8Array(RECV_BUFFER_BYTES);

  private constructor(
    private readonly c: Libc,
    private readonly fd: number,
  ) {}

  static open(protocol: number): NetlinkSocket {
    const c = loadLibc();
    const fd = check("socket", c.socket([AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, protocol]));
    try {
      const addr = new Uint8Array(12); // struct sockaddr_nl; nl_pid 0 lets the kernel pick the port id
      view(addr).setUint16(0, AF_NETLINK, true);
      check("bind", c.bind([fd, addr, addr.length]));
      const timeout = new Uint8Array(16); // struct timeval
      view(timeout).setBigInt64(0, BigInt(RECV_TIMEOUT_SECONDS), true);
      check("setsockopt", c.setsockopt([fd, SOL_SOCKET, SO_RCVTIMEO, timeout, timeout.length]));
      return new NetlinkSocket(c, fd);
    } catch (err) {
      c.close([fd]);
      throw err;
    }
  }

  close(): void {
    this.c.close([this.fd]);
  }

  /** A NLM_F_DUMP request of `type` with a family header; returns every reply message. */
  dump(type: number, header: Uint8Array): NetlinkMessage[] {
    const replies: NetlinkMessage[] = [];
    this.exchange(type, NLM_F_REQUEST | NLM_F_DUMP, header, (msg) => {
      if (msg.type === NLMSG_ERROR || msg.type === NLMSG_DONE) {
        const errno = messageErrno(msg);
        if (errno > 0) throw new NetlinkError(`dump type ${type}`, errno, errnoText(errno));
        return true;
      }
      replies.push(msg);
      return false;
    });
    return replies;
  }

  /** A single request (no dump); returns the one reply, or throws NetlinkError with the kernel's errno. */
  request(type: number, payload: Uint8Array): NetlinkMessage {
    let reply: NetlinkMessage | undefined;
    this.exchange(type, NLM_F_REQUEST, payload, (msg) => {
      if (msg.type === NLMSG_ERROR) {
        const errno = messageErrno(msg);
        if (errno > 0) throw new NetlinkError(`request type ${type}`, errno, errnoText(errno));
      } else {
        reply = msg;
      }
      return true;
    });
    if (!reply) throw new NetlinkError(`request type ${type}`, 0, "acknowledged without a reply");
    return reply;
  }

  /**
   * Send one request and hand each reply of its sequence to `collect` until it returns true. Replies of other
   * sequences are skipped: on a reused socket they can only be leftovers of an earlier request that timed out.
   */
  private exchange(type: number, flags: number, payload: Uint8Array, collect: (msg: NetlinkMessage) => boolean): void {
    const seq = (sequence = (sequence + 1) >>> 0);
    const request = encodeMessage(type, flags, seq, payload);
    check("send", this.c.send([this.fd, request, request.length, 0]));
    let total = 0;
    for (;;) {
      const n = this.receive();
      total += n;
      if (total > MAX_DUMP_BYTES) throw new NetlinkError("recv", 0, `reply exceeds ${MAX_DUMP_BYTES} bytes`);
      for (const msg of parseMessages(this.buf.slice(0, n))) {
        if (msg.seq === seq && collect(msg)) return;
      }
    }
  }

  private receive(): number {
    for (;;) {
      const result = this.c.recv([this.fd, this.buf, this.buf.length, MSG_TRUNC]);
      if (result.value < 0 && result.errnoCode === EINTR) continue;
      if (result.value < 0 && result.errnoCode === EAGAIN) {
        throw new NetlinkError("recv", EAGAIN, `no reply within ${RECV_TIMEOUT_SECONDS}s`);
      }
      const n = check("recv", result);
      if (n > this.buf.length) {
        throw new NetlinkError("recv", 0, `message of ${n} bytes exceeds the ${this.buf.length}-byte buffer`);
      }
      return n;
    }
  }
}

let sequence = Math.floor(Date.now() / 1000) >>> 0;

/** `use` a fresh socket of `protocol`, closed afterwards whatever happens. */
export function withNetlinkSocket<T>(protocol: number, use: (socket: NetlinkSocket) => T): T {
  const socket = NetlinkSocket.open(protocol);
  try {
    return use(socket);
  } finally {
    socket.close();
  }
}

/** A NLM_F_DUMP request of rtnetlink `type` with a family header; returns every reply message. */
export function rtnetlinkDump(type: number, header: Uint8Array): NetlinkMessage[] {
  return withNetlinkSocket(NETLINK_ROUTE, (s) => s.dump(type, header));
}

/** A single rtnetlink request (no dump); returns the one reply, or throws NetlinkError with the kernel's errno. */
export function rtnetlinkRequest(type: number, payload: Uint8Array): NetlinkMessage {
  return withNetlinkSocket(NETLINK_ROUTE, (s) => s.request(type, payload));
}

// --- generic netlink -------------------------------------------------------------------------------

/** The generic netlink controller's fixed family id, which resolves every other family's id by name. */
export const GENL_ID_CTRL = 0x10;
const CTRL_CMD_GETFAMILY = 3;
const CTRL_ATTR_FAMILY_ID = 1;
const CTRL_ATTR_FAMILY_NAME = 2;
const GENL_HDRLEN = 4;
const ENOENT = 2;

export interface GenlMessage {
  cmd: number;
  version: number;
  attrs: Map<number, Uint8Array>;
}

/** A generic netlink payload: struct genlmsghdr {u8 cmd, u8 version, u16 reserved}, then the attributes. */
export function encodeGenl(cmd: number, version: number, attrs: Uint8Array[]): Uint8Array {
  return concatBytes([new Uint8Array([cmd, version, 0, 0]), ...attrs]);
}

export function parseGenl(payload: Uint8Array): GenlMessage {
  if (payload.length < GENL_HDRLEN) throw new NetlinkError("parse", 0, "short genlmsghdr");
  return { cmd: payload[0]!, version: payload[1]!, attrs: parseAttrs(payload.subarray(GENL_HDRLEN)) };
}

export function encodeGetFamily(name: string): Uint8Array {
  return encodeGenl(CTRL_CMD_GETFAMILY, 1, [encodeAttr(CTRL_ATTR_FAMILY_NAME, encodeString(name))]);
}

/** CTRL_ATTR_FAMILY_ID (u16) of a controller reply. */
export function parseFamilyId(payload: Uint8Array): number {
  const id = parseGenl(payload).attrs.get(CTRL_ATTR_FAMILY_ID);
  if (!id || id.length < 2) throw new NetlinkError("parse", 0, "family reply without CTRL_ATTR_FAMILY_ID");
  return view(id).getUint16(0, true);
}

/**
 * The id of generic netlink family `name` on a NETLINK_GENERIC socket; undefined when the kernel has no such family
 * here (not built in, or a family that only lives in the initial network namespace, as taskstats does).
 */
export function genlFamilyId(socket: NetlinkSocket, name: string): number | undefined {
  try {
    return parseFamilyId(socket.request(GENL_ID_CTRL, encodeGetFamily(name)).payload);
  } catch (err) {
    if (err instanceof NetlinkError && err.errno === ENOENT) return undefined;
    throw err;
  }
}
