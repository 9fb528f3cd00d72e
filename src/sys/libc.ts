// The few libc calls Bun does not expose (flock, madvise), bound once through ffi-rs.
import { DataType, load, open } from "ffi-rs";

const LIBRARY = "libc";
let opened = false;

function ensureOpen(): void {
  if (opened) return;
  open({ library: LIBRARY, path: "libc.so.6" });
  opened = true;
}

export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/** Reclaim the pages now (Linux 5.4+); contents are kept, so a later access faults them back in. */
export const MADV_PAGEOUT = 21;

export interface CallResult {
  value: number;
  errno: number;
  message: string;
}

/** Calls an int-returning libc function; returns errno instead of throwing so callers can word the error. */
function callInt(funcName: string, paramsType: DataType[], paramsValue: number[]): CallResult {
  ensureOpen();
  const result = load({ library: LIBRARY, funcName, retType: DataType.I32, paramsType, paramsValue, errno: true }) as unknown as {
    value: number;
    errnoCode: number;
    errnoMessage: string;
  };
  return { value: result.value, errno: result.value === 0 ? 0 : result.errnoCode, message: result.errnoMessage };
}

/** flock(2) on an open descriptor. */
export function flock(fd: number, operation: number): CallResult {
  return callInt("flock", [DataType.I32, DataType.I32], [fd, operation]);
}

/** madvise(2) over [address, address + length). void* and size_t go as 64-bit integers: the same registers. */
export function madvise(address: number, length: number, advice: number): CallResult {
  return callInt("madvise", [DataType.I64, DataType.I64, DataType.I32], [address, length, advice]);
}
