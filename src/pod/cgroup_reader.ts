// The collectors' way into container cgroups: the path of a controller file for a container (v1 or v2), and reads
// shared across the collectors of one scrape so each cgroup file is read at most once however many collectors need it.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { getRootPrefix } from "../procfs/root";
import { controllerDir, detectLayout, type CgroupLayout } from "./cgroup";
import type { Container } from "./types";

/** A container, or a cgroup path relative to the hierarchy root ("" = the root cgroup, i.e. the host). */
export type CgroupTarget = Container | string;

export interface CgroupDir {
  path: string;
  /** The file format to expect: v1 (cpu.cfs_quota_us, memory.limit_in_bytes) or v2 (cpu.max, memory.max). */
  version: 1 | 2;
}

/** Reads younger than this are reused: collectors of one scrape start together and finish within it. */
const SCRAPE_WINDOW_MS = 1_000;

export class CgroupFs {
  private readonly cache = new Map<string, { at: number; text: Promise<string | undefined> }>();
  private lastSweep = 0;

  constructor(
    readonly layout: CgroupLayout,
    private readonly windowMs = SCRAPE_WINDOW_MS,
  ) {}

  /** The container's directory for `controller`, undefined when no mounted hierarchy has that controller. */
  dir(target: CgroupTarget, controller: string): CgroupDir | undefined {
    const where = controllerDir(this.layout, controller);
    if (!where) return undefined;
    const rel = typeof target === "string" ? target : target.cgroupPath;
    return { path: join(where.root, rel), version: where.version };
  }

  /** Absolute path of `file` in the container's cgroup for `controller`. */
  file(target: CgroupTarget, controller: string, file: string): string | undefined {
    const dir = this.dir(target, controller);
    return dir && join(dir.path, file);
  }

  /**
   * Text of a cgroup file, undefined when the controller, the cgroup or the file is absent (a container that just
   * exited, a file this kernel lacks). Shared by every caller within one scrape window.
   */
  read(target: CgroupTarget, controller: string, file: string): Promise<string | undefined> {
    const path = this.file(target, controller, file);
    if (path === undefined) return Promise.resolve(undefined);
    const now = Date.now();
    this.sweep(now);
    const hit = this.cache.get(path);
    if (hit && now - hit.at < this.windowMs) return hit.text;
    const text = readCgroupText(path);
    this.cache.set(path, { at: now, text });
    return text;
  }

  /** Drops stale reads so the cache holds at most one scrape's worth of files. */
  private sweep(now: number): void {
    if (now - this.lastSweep < this.windowMs) return;
    this.lastSweep = now;
    for (const [path, entry] of this.cache) if (now - entry.at >= this.windowMs) this.cache.delete(path);
  }
}

/** ENODEV is what reading a file of a cgroup being removed returns (kernfs deactivated node); it means "gone". */
const GONE = new Set(["ENOENT", "ENOTDIR", "ENODEV", "ESRCH"]);

async function readCgroupText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if (GONE.has((err as NodeJS.ErrnoException).code ?? "")) return undefined;
    throw err;
  }
}

let host: { prefix: string; fs: CgroupFs } | undefined;

/**
 * The daemon's cgroup reader, with the layout detected on first use (mounts do not change under a running agent).
 * Detected again only if the procfs prefix changes, which happens between unit tests, never in the daemon.
 */
export function hostCgroups(): CgroupFs {
  const prefix = getRootPrefix();
  if (host?.prefix !== prefix) host = { prefix, fs: new CgroupFs(detectLayout()) };
  return host.fs;
}
