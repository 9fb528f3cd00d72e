// The few libc calls Bun does not expose (flock), bound once through ffi-rs.
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

export interface CallResult {
  value: number;
  errno: number;
  message: string;
}

/** flock(2) on an open descriptor; returns errno instead of throwing so callers can word the error. */
export function flock(fd: number, operation: number): CallResult {
  ensureOpen();
  const result = load({
    library: LIBRARY,
    funcName: "flock",
    retType: DataType.I32,
    paramsType: [DataType.I32, DataType.I32],
    paramsValue: [fd, operation],
    errno: true,
  }) as unknown as { value: number; errnoCode: number; errnoMessage: string };
  return { value: result.value, errno: result.value === 0 ? 0 : result.errnoCode, message: result.errnoMessage };
}
