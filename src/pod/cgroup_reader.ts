// The collectors' way into container cgroups: the path of a controller file for a container (v1 or v2), and reads
// joined across collectors: the collectors of a scrape start together, so a file several of them need is read once.
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

export class CgroupFs {
  /** Reads in flight by path. Finished reads are dropped at once: a later scrape must see fresh values. */
  private readonly inFlight = new Map<string, Promise<string | undefined>>();

  constructor(readonly layout: CgroupLayout) {}

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
   * exited, a file this kernel lacks). A caller asking while the same file is being read joins that read.
   */
  read(target: CgroupTarget, controller: string, file: string): Promise<string | undefined> {
    const path = this.file(target, controller, file);
    if (path === undefined) return Promise.resolve(undefined);
    const pending = this.inFlight.get(path);
    if (pending) return pending;
    const text = readCgroupText(path).finally(() => this.inFlight.delete(path));
    this.inFlight.set(path, text);
    return text;
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
