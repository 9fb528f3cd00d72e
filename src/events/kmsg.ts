// The kernel log through /dev/kmsg: one record per read(2), read without blocking from where the reader
// joined (what was logged before is skipped), records parsed and printed as "YYYY-MM-DD HH:MM:SS message".
import { closeSync, constants, openSync, readSync } from "node:fs";
import { devPath } from "../procfs/root";
import { formatTracerTime } from "../storage/time";
import { monoToWallOffsetNs } from "./net_libc";

export interface KmsgRecord {
  /** Syslog level 0 (emerg) .. 7 (debug). */
  level: number;
  seq: number;
  /** Microseconds since boot (the kernel's local clock) when it was logged. */
  usec: number;
  /** The first line, with \xNN escapes decoded; continuation (KEY=value) lines dropped. */
  message: string;
}

/** `<prio>,<seq>,<usec>,<flags>[,...];<message>\n[ KEY=value\n...]` (Documentation/ABI/testing/dev-kmsg). */
export function parseKmsgRecord(text: string): KmsgRecord | undefined {
  const semi = text.indexOf(";");
  if (semi < 0) return undefined;
  const [prio, seq, usec] = text.slice(0, semi).split(",");
  if (prio === undefined || seq === undefined || usec === undefined) return undefined;
  const end = text.indexOf("\n", semi);
  const message = text.slice(semi + 1, end < 0 ? undefined : end);
  const numbers = [prio, seq, usec].map(Number);
  if (numbers.some((n) => !Number.isFinite(n))) return undefined;
  return { level: numbers[0]! & 7, seq: numbers[1]!, usec: numbers[2]!, message: unescapeKmsg(message) };
}

/** The kernel writes bytes outside printable ASCII (and the backslash) as \xNN. */
export function unescapeKmsg(text: string): string {
  return text.replace(/\\x([0-9a-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * Wall-clock ms of boot: the kernel log's clock counts like CLOCK_MONOTONIC (both leave out suspend), read from libc
 * because Bun's process.hrtime counts from the process's start.
 */
export function bootTimeMs(): number {
  return Number(monoToWallOffsetNs(1) / 1_000_000n);
}

/** `2025-06-10 14:30:22 sysrq: Show backtrace of all active CPUs` in the local zone. */
export function formatKmsgLine(record: KmsgRecord, bootMs: number): string {
  const at = new Date(bootMs + Math.floor(record.usec / 1000));
  return `${formatTracerTime(at).slice(0, 19)} ${record.message}`;
}

const RECORD_MAX = 16 * 1024;

/** A non-blocking reader of records logged after it opened. */
export class KmsgTail {
  private descriptor: number | undefined;
  private readonly buffer = Buffer.alloc(RECORD_MAX);

  constructor(private readonly path = devPath("kmsg")) {}

  /** Opens /dev/kmsg and skips the records already in the log. Throws when it cannot be read (not root). */
  open(): void {
    this.descriptor = openSync(this.path, constants.O_RDONLY | constants.O_NONBLOCK);
    this.read(Number.MAX_SAFE_INTEGER);
  }

  /** The descriptor, for polling; -1 when closed. */
  get fd(): number {
    return this.descriptor ?? -1;
  }

  /** Records logged since the last call, at most `max`. */
  read(max = 10_000): KmsgRecord[] {
    const out: KmsgRecord[] = [];
    while (this.descriptor !== undefined && out.length < max) {
      const text = this.next();
      if (text === undefined) break;
      const record = parseKmsgRecord(text);
      if (record) out.push(record);
    }
    return out;
  }

  close(): void {
    if (this.descriptor !== undefined) closeSync(this.descriptor);
    this.descriptor = undefined;
  }

  /** One record's text, or undefined when none is waiting. */
  private next(): string | undefined {
    for (;;) {
      try {
        const length = readSync(this.descriptor!, this.buffer, 0, this.buffer.length, null);
        return this.buffer.toString("utf8", 0, length);
      } catch (err) {
        // EPIPE: records were overwritten before we read them; the next read continues after the gap
        if ((err as NodeJS.ErrnoException).code === "EPIPE") continue;
        if ((err as NodeJS.ErrnoException).code === "EAGAIN") return undefined;
        throw err;
      }
    }
  }
}
