// The memory picture stored with an OOM kill: the host's /proc/meminfo and the memory cgroups' usage, limit,
// memory.stat and OOM events, read when the event is handled (milliseconds after the kill).
import { join } from "node:path";
import { procPath, readTextIfExists } from "../procfs/root";

/** /proc/meminfo lines kept, reported in bytes. */
const MEMINFO_KEYS = [
  "MemTotal", "MemFree", "MemAvailable", "Buffers", "Cached", "SwapCached", "Active(anon)", "Inactive(anon)",
  "Active(file)", "Inactive(file)", "Unevictable", "Slab", "SReclaimable", "SUnreclaim", "SwapTotal", "SwapFree",
  "CommitLimit", "Committed_AS",
];

export function parseMeminfoBytes(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const m = /^([^:]+):\s+(\d+)(\s+kB)?/.exec(line);
    if (m && MEMINFO_KEYS.includes(m[1]!)) out[m[1]!] = Number(m[2]) * (m[3] ? 1024 : 1);
  }
  return out;
}

/** A counter exactly: beyond 2^53 (v1's "no limit" 9223372036854771712) as a bigint, written as the same digits. */
function exact(digits: string): number | bigint {
  const n = Number(digits);
  return Number.isSafeInteger(n) ? n : BigInt(digits);
}

/** `key value` lines (memory.stat, memory.events, memory.oom_control). */
export function parseFlatKeyed(text: string): Record<string, number | bigint> {
  const out: Record<string, number | bigint> = {};
  for (const line of text.split("\n")) {
    const [key, value] = line.trim().split(/\s+/);
    if (key && value !== undefined && /^\d+$/.test(value)) out[key] = exact(value);
  }
  return out;
}

export interface MemcgSnapshot {
  /** The cgroup path, "/" for the root. */
  path: string;
  /** Usage and limit when the OOM killer chose the victim, read in the kernel before the kill freed anything. */
  at_kill?: { usage_bytes: number; limit_bytes: number | null };
  usage_bytes?: number | bigint;
  /** null: no limit (cgroup v2 "max"). */
  limit_bytes?: number | bigint | null;
  /** v1 memory.max_usage_in_bytes, v2 memory.peak. */
  peak_bytes?: number | bigint;
  /** v1 memory.oom_control, v2 memory.events. */
  events?: Record<string, number | bigint>;
  stat?: Record<string, number | bigint>;
}

async function number(dir: string, file: string): Promise<number | bigint | null | undefined> {
  const text = (await readTextIfExists(join(dir, file)))?.trim();
  if (text === undefined || !/^(\d+|max)$/.test(text)) return undefined;
  return text === "max" ? null : exact(text);
}

async function keyed(dir: string, file: string): Promise<Record<string, number | bigint> | undefined> {
  const text = await readTextIfExists(join(dir, file));
  return text === undefined ? undefined : parseFlatKeyed(text);
}

/** One memory cgroup's files, by hierarchy version; a cgroup that is gone yields only its path. */
export async function memcgSnapshot(dir: string, path: string, version: 1 | 2): Promise<MemcgSnapshot> {
  const v1 = version === 1;
  const [usage, limit, peak, events, stat] = await Promise.all([
    number(dir, v1 ? "memory.usage_in_bytes" : "memory.current"),
    number(dir, v1 ? "memory.limit_in_bytes" : "memory.max"),
    number(dir, v1 ? "memory.max_usage_in_bytes" : "memory.peak"),
    keyed(dir, v1 ? "memory.oom_control" : "memory.events"),
    keyed(dir, "memory.stat"),
  ]);
  return {
    path: `/${path}`,
    ...(usage != null && { usage_bytes: usage }),
    ...(limit !== undefined && { limit_bytes: limit }),
    ...(peak != null && { peak_bytes: peak }),
    ...(events && { events }),
    ...(stat && { stat }),
  };
}

export async function hostMeminfo(): Promise<Record<string, number>> {
  return parseMeminfoBytes((await readTextIfExists(procPath("meminfo"))) ?? "");
}
