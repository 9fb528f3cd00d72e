// Hands back the file pages that only startup needed. The executable embeds the whole Bun runtime, and starting
// (module loading, config parsing, BPF object loading through libbpf) touches code and data the running daemon
// never uses again; they stay mapped, and counted in RSS, until memory pressure. Paging them out once the daemon has
// settled leaves what it really runs on: those pages fault back in on their next use, the others stay out.
import { readFileSync } from "node:fs";
import type { Logger } from "../log";
import { madvise, MADV_PAGEOUT } from "../sys/libc";

export interface FileMapping {
  start: number;
  length: number;
  path: string;
}

/**
 * Mappings of regular files in /proc/<pid>/maps: anonymous memory, pseudo-files such as [vdso], devices (which
 * cannot be paged out) and memfd (shared memory, which needs swap) are left out.
 */
export function fileMappings(maps: string): FileMapping[] {
  const out: FileMapping[] = [];
  for (const line of maps.split("\n")) {
    const fields = line.split(/\s+/);
    const path = fields[5];
    if (!path?.startsWith("/") || path.startsWith("/dev/") || path.startsWith("/memfd:")) continue;
    const [start, end] = fields[0]!.split("-").map((hex) => parseInt(hex, 16));
    if (start !== undefined && end !== undefined && end > start) out.push({ start, length: end - start, path });
  }
  return out;
}

function residentKiB(): number {
  return Number(/^VmRSS:\s+(\d+)/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1] ?? 0);
}

export interface ReleaseResult {
  beforeKiB: number;
  afterKiB: number;
  /** Why a mapping could not be paged out (every one, on a kernel before 5.4), if one could not. */
  error?: string;
}

/**
 * Pages out this process's file-backed mappings. Harmless to contents: pages shared with other processes are
 * skipped by the kernel, and copy-on-write pages are anonymous memory, which needs swap to go anywhere.
 */
export function releaseStartupPages(): ReleaseResult {
  const beforeKiB = residentKiB();
  let error: string | undefined;
  for (const m of fileMappings(readFileSync("/proc/self/maps", "utf8"))) {
    const result = madvise(m.start, m.length, MADV_PAGEOUT);
    if (result.errno !== 0) error ??= `madvise(MADV_PAGEOUT) ${m.path}: ${result.message}`;
  }
  return { beforeKiB, afterKiB: residentKiB(), error };
}

/** Once the daemon has settled (tracers attached, first scrapes served), releases the startup pages once. */
export function scheduleStartupPageRelease(log: Logger, delayMs: number): Timer {
  const timer = setTimeout(() => {
    const { beforeKiB, afterKiB, error } = releaseStartupPages();
    const fields = { rss_before_mib: Math.round(beforeKiB / 1024), rss_after_mib: Math.round(afterKiB / 1024) };
    log.info("startup pages released", error ? { ...fields, incomplete: error } : fields);
  }, delayMs);
  timer.unref();
  return timer;
}
