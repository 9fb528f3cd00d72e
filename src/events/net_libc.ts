// The libc socket calls the network event tracers need and Bun lacks, bound once through ffi-rs: a non-blocking
// rtnetlink multicast socket, a socket holding SO_TIMESTAMPING, and the ethtool driver-info ioctl.
import { DataType, define, load, open } from "ffi-rs";

const LIBRARY = "libc-events-net";
type Call = (args: unknown[]) => { value: number; errnoCode: number };
interface Libc {
  socket: Call;
  bind: Call;
  setsockopt: Call;
  recv: Call;
  close: Call;
  ioctl: Call;
  calloc: Call;
  free: Call;
  clock_gettime: Call;
}

export const EAGAIN = 11;
export const EINTR = 4;
export const ENOBUFS = 105;

const AF_INET = 2;
const AF_NETLINK = 16;
const SOCK_DGRAM = 2;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const NETLINK_ROUTE = 0;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
/** SO_TIMESTAMPING (SO_TIMESTAMPING_OLD) on x86_64 and arm64 (asm-generic). */
const SO_TIMESTAMPING = 37;
const SOF_TIMESTAMPING_RX_SOFTWARE = 1 << 3;
const SOF_TIMESTAMPING_SOFTWARE = 1 << 4;
const MSG_TRUNC = 0x20;
const MSG_DONTWAIT = 0x40;
const SIOCETHTOOL = 0x8946;
const ETHTOOL_GDRVINFO = 3;

let libc: Libc | undefined;

function c(): Libc {
  if (libc) return libc;
  open({ library: LIBRARY, path: "libc.so.6" });
  const { I32, I64, U8Array, Void } = DataType;
  const fn = (retType: DataType, paramsType: DataType[]) => ({ library: LIBRARY, retType, paramsType, errno: true });
  libc = define({
    socket: fn(I32, [I32, I32, I32]),
    bind: fn(I32, [I32, U8Array, I32]),
    setsockopt: fn(I32, [I32, I32, I32, U8Array, I32]),
    recv: fn(I64, [I32, U8Array, I64, I32]),
    close: fn(I32, [I32]),
    // pointers travel as integers: user-space addresses fit a double exactly
    ioctl: fn(I32, [I32, I64, I64]),
    calloc: fn(I64, [I64, I64]),
    free: fn(Void, [I64]),
    clock_gettime: fn(I32, [I32, U8Array]),
  }) as unknown as Libc;
  return libc;
}

/** A failed libc call with its errno. */
export class SysError extends Error {
  override name = "SysError";
  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    super(`${call}: errno ${errno}`);
  }
}

function check(call: string, result: { value: number; errnoCode: number }): number {
  if (result.value < 0) throw new SysError(call, result.errnoCode);
  return result.value;
}

function int32(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setInt32(0, value, true);
  return out;
}

/** A non-blocking NETLINK_ROUTE socket joined to the multicast `groups` (RTMGRP_* bits). */
export function openNetlinkMulticast(groups: number, rcvbufBytes: number): number {
  const fd = check("socket", c().socket([AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE]));
  try {
    const addr = new Uint8Array(12); // struct sockaddr_nl { family, pad, pid = 0 (kernel picks), groups }
    const view = new DataView(addr.buffer);
    view.setUint16(0, AF_NETLINK, true);
    view.setUint32(8, groups, true);
    check("setsockopt SO_RCVBUF", c().setsockopt([fd, SOL_SOCKET, SO_RCVBUF, int32(rcvbufBytes), 4]));
    check("bind", c().bind([fd, addr, addr.length]));
    return fd;
  } catch (err) {
    c().close([fd]);
    throw err;
  }
}

/** One datagram without waiting: its length (beyond buf.length when truncated), or 0 when none is queued. */
export function recvNow(fd: number, buf: Uint8Array): number {
  for (;;) {
    const result = c().recv([fd, buf, buf.length, MSG_DONTWAIT | MSG_TRUNC]);
    if (result.value >= 0) return result.value;
    if (result.errnoCode === EINTR) continue;
    if (result.errnoCode === EAGAIN) return 0;
    throw new SysError("recv", result.errnoCode);
  }
}

export function closeFd(fd: number): void {
  c().close([fd]);
}

/**
 * A UDP socket asking for software receive timestamps. While one exists the kernel stamps every received skb
 * (net_enable_timestamp), which the receive-latency stages measure from.
 */
export function openRxTimestampSocket(): number {
  const fd = check("socket", c().socket([AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0]));
  try {
    const flags = int32(SOF_TIMESTAMPING_RX_SOFTWARE | SOF_TIMESTAMPING_SOFTWARE);
    check("setsockopt SO_TIMESTAMPING", c().setsockopt([fd, SOL_SOCKET, SO_TIMESTAMPING, flags, 4]));
    return fd;
  } catch (err) {
    c().close([fd]);
    throw err;
  }
}

const CLOCK_REALTIME = 0;
const CLOCK_MONOTONIC = 1;

function clockNs(clock: number, timespec: Uint8Array): bigint {
  check("clock_gettime", c().clock_gettime([clock, timespec]));
  const view = new DataView(timespec.buffer);
  return view.getBigInt64(0, true) * 1_000_000_000n + view.getBigInt64(8, true);
}

/**
 * CLOCK_REALTIME - CLOCK_MONOTONIC in ns (what BPF's ktime is), from the tightest of a few bracketing reads.
 * Bun's process.hrtime does not count from boot, so both clocks are read from libc.
 */
export function monoToWallOffsetNs(samples = 5): bigint {
  const ts = new Uint8Array(16);
  let best: { width: bigint; offset: bigint } | undefined;
  for (let i = 0; i < samples; i++) {
    const before = clockNs(CLOCK_MONOTONIC, ts);
    const wall = clockNs(CLOCK_REALTIME, ts);
    const after = clockNs(CLOCK_MONOTONIC, ts);
    const width = after - before;
    if (!best || width < best.width) best = { width, offset: wall - (before + after) / 2n };
  }
  return best!.offset;
}

export interface DriverInfo {
  driver: string;
  version: string;
  firmware: string;
}

const IFREQ_BYTES = 40;
/** struct ethtool_drvinfo: cmd, then driver[32], version[32], fw_version[32], bus_info[32], ... (196 bytes). */
const DRVINFO_BYTES = 196;

const cstr = (bytes: Uint8Array) => new TextDecoder().decode(bytes.subarray(0, bytes.indexOf(0) < 0 ? bytes.length : bytes.indexOf(0)));

/**
 * `ethtool -i <device>` (ETHTOOL_GDRVINFO) in the agent's network namespace, or undefined when the device has no
 * driver information (lo) or is gone. The ifreq points at the drvinfo, so both live in one calloc'd block.
 */
export function driverInfo(device: string): DriverInfo | undefined {
  const fd = check("socket", c().socket([AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0]));
  const block = check("calloc", c().calloc([1, IFREQ_BYTES + DRVINFO_BYTES]));
  try {
    const request = new Uint8Array(IFREQ_BYTES + 4);
    const view = new DataView(request.buffer);
    request.set(new TextEncoder().encode(device).subarray(0, 15));
    view.setBigUint64(16, BigInt(block + IFREQ_BYTES), true);
    view.setUint32(IFREQ_BYTES, ETHTOOL_GDRVINFO, true);
    copyIn(block, request);
    if (c().ioctl([fd, SIOCETHTOOL, block]).value < 0) return undefined;
    const info = copyOut(block + IFREQ_BYTES, DRVINFO_BYTES);
    return { driver: cstr(info.subarray(4, 36)), version: cstr(info.subarray(36, 68)), firmware: cstr(info.subarray(68, 100)) };
  } finally {
    c().free([block]);
    c().close([fd]);
  }
}

function memcpy(dst: number | Uint8Array, src: number | Uint8Array, n: number): void {
  const type = (v: number | Uint8Array) => (typeof v === "number" ? DataType.I64 : DataType.U8Array);
  c();
  load({ library: LIBRARY, funcName: "memcpy", retType: DataType.I64, paramsType: [type(dst), type(src), DataType.I64], paramsValue: [dst, src, n] });
}

function copyIn(address: number, bytes: Uint8Array): void {
  memcpy(address, bytes, bytes.length);
}

function copyOut(address: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  memcpy(out, address, length);
  return out;
}
