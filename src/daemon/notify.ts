// systemd readiness (sd_notify): one datagram to $NOTIFY_SOCKET once the daemon serves, so a Type=notify unit's
// `systemctl start` returns only when /metrics answers, and a startup failure shows as a failed start.
import { DataType, load, open } from "ffi-rs";
import type { Logger } from "../log";

// Bun has no unix datagram sockets, so socket(2)/sendto(2) come from libc through ffi-rs.
const LIBRARY = "libc_notify";
const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;
/** sizeof(sockaddr_un.sun_path) on Linux. */
const SUN_PATH_SIZE = 108;

let opened = false;

interface Call {
  value: number;
  errnoCode: number;
  errnoMessage: string;
}

function call(funcName: string, retType: DataType, paramsType: DataType[], paramsValue: unknown[]): Call {
  if (!opened) {
    open({ library: LIBRARY, path: "libc.so.6" });
    opened = true;
  }
  return load({ library: LIBRARY, funcName, retType, paramsType, paramsValue, errno: true }) as unknown as Call;
}

/**
 * struct sockaddr_un for $NOTIFY_SOCKET, trimmed to the length sendto(2) gets: a path (NUL-terminated) or, with a
 * leading "@", an abstract name (leading NUL, no terminator: every byte of the length is part of the name).
 */
export function sockaddrUn(address: string): Buffer {
  const abstract = address.startsWith("@");
  if (!abstract && !address.startsWith("/")) throw new Error(`unsupported NOTIFY_SOCKET ${JSON.stringify(address)}`);
  const name = Buffer.from(abstract ? address.slice(1) : address);
  const pathBytes = abstract ? 1 + name.length : name.length + 1;
  if (pathBytes > SUN_PATH_SIZE) throw new Error(`NOTIFY_SOCKET longer than ${SUN_PATH_SIZE} bytes`);
  const addr = Buffer.alloc(2 + pathBytes);
  addr.writeUInt16LE(AF_UNIX, 0);
  name.copy(addr, abstract ? 3 : 2);
  return addr;
}

/**
 * Sends `state` (newline-separated KEY=VALUE, e.g. "READY=1") to the service manager. Returns false when not
 * started by one (no NOTIFY_SOCKET); throws a one-line error when the datagram cannot be sent.
 */
export function sdNotify(state: string, socketAddress = process.env.NOTIFY_SOCKET): boolean {
  if (!socketAddress) return false;
  const addr = sockaddrUn(socketAddress);
  const { I32, I64, U8Array } = DataType;
  const fd = call("socket", I32, [I32, I32, I32], [AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0]);
  if (fd.value < 0) throw new Error(`notify ${socketAddress}: socket: ${fd.errnoMessage}`);
  try {
    const message = Buffer.from(state);
    const sent = call(
      "sendto",
      I64,
      [I32, U8Array, I64, I32, U8Array, I32],
      [fd.value, message, message.length, MSG_NOSIGNAL, addr, addr.length],
    );
    if (sent.value < 0) throw new Error(`notify ${socketAddress}: sendto: ${sent.errnoMessage}`);
  } finally {
    call("close", I32, [I32], [fd.value]);
  }
  return true;
}

/** READY=1 after startup. A failure is logged, not fatal: systemd then reports the start as timed out. */
export function notifyReady(log: Logger): void {
  try {
    if (sdNotify("READY=1\nSTATUS=serving")) log.info("notified systemd: ready");
  } catch (err) {
    log.warn("could not notify systemd of readiness", { err });
  }
}
