// The collectors' way into container cgroups: the path of a controller file for a container (v1 or v2), and reads
// that keep kernfs files open between scrapes (cgroup_files.ts).
import { existsSync, statfsSync } from "node:fs";
import { join } from "node:path";
import { getRootPrefix } from "../procfs/root";
import { controllerDir, detectLayout, type CgroupLayout } from "./cgroup";
import { CgroupFiles } from "./cgroup_files";
import type { Container } from "./types";

/** A container, or a cgroup path relative to the hierarchy root ("" = the root cgroup, i.e. the host). */
export type CgroupTarget = Container | string;

export interface CgroupDir {
  path: string;
  /** The file format to expect: v1 (cpu.cfs_quota_us, memory.limit_in_bytes) or v2 (cpu.max, memory.max). */
  version: 1 | 2;
}

export class CgroupFs {
  private readonly files = new CgroupFiles();
  /** Per controller: whether its hierarchy is a cgroup filesystem (kernfs) rather than, say, a test's fixture tree. */
  private readonly kernfs = new Map<string, boolean>();
  /** Directories of a Container per controller, as long as the object lives (a new one when the container changed). */
  private readonly dirs = new WeakMap<Container, Map<string, CgroupDir | undefined>>();
  /**
   * `<controller>/<file>` found missing from an existing container cgroup on v1, where every non-root cgroup of a
   * hierarchy has the same files (v1 memory.events): not asked again, instead of one failed open per container.
   */
  private readonly absent = new Set<string>();

  constructor(readonly layout: CgroupLayout) {}

  /** The container's directory for `controller`, undefined when no mounted hierarchy has that controller. */
  dir(target: CgroupTarget, controller: string): CgroupDir | undefined {
    if (typeof target === "string") return this.locate(target, controller);
    let byController = this.dirs.get(target);
    if (!byController) this.dirs.set(target, (byController = new Map()));
    if (!byController.has(controller)) byController.set(controller, this.locate(target.cgroupPath, controller));
    return byController.get(controller);
  }

  private locate(rel: string, controller: string): CgroupDir | undefined {
    const where = controllerDir(this.layout, controller);
    return where && { path: join(where.root, rel), version: where.version };
  }

  /** Absolute path of `file` (a file name) in the container's cgroup for `controller`. */
  file(target: CgroupTarget, controller: string, file: string): string | undefined {
    const dir = this.dir(target, controller);
    return dir && `${dir.path}/${file}`;
  }

  /**
   * Text of a cgroup file, undefined when the controller, the cgroup or the file is absent (a container that just
   * exited, a file this kernel lacks). Read synchronously: a kept-open kernfs file costs a few microseconds.
   */
  read(target: CgroupTarget, controller: string, file: string): Promise<string | undefined> {
    const dir = this.dir(target, controller);
    const key = `${controller}/${file}`;
    if (dir === undefined || this.absent.has(key)) return Promise.resolve(undefined);
    try {
      const text = this.files.read(`${dir.path}/${file}`, this.keepOpen(controller, file));
      if (text === undefined) this.notFound(target, dir, key);
      return Promise.resolve(text);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Pid lists are the exception among kernfs files: v1 caches one per open file for a second after each read, so
   * they are opened afresh every time.
   */
  private keepOpen(controller: string, file: string): boolean {
    if (PID_LISTS.has(file)) return false;
    let kernfs = this.kernfs.get(controller);
    if (kernfs === undefined) this.kernfs.set(controller, (kernfs = isCgroupMount(controllerDir(this.layout, controller)?.root)));
    return kernfs;
  }

  /** Remembers a missing file when the kernel lacks it, not when the cgroup itself went away. */
  private notFound(target: CgroupTarget, dir: CgroupDir, key: string): void {
    const rel = typeof target === "string" ? target : target.cgroupPath;
    // The root cgroup (the host) has files its children lack and the other way round.
    if (dir.version === 1 && rel.replace(/\/+/g, "") !== "" && existsSync(dir.path)) this.absent.add(key);
  }
}

const PID_LISTS = new Set(["tasks", "cgroup.procs", "cgroup.threads"]);
/** statfs f_type of cgroup (v1) and cgroup2 mounts. */
const CGROUP_SUPER_MAGIC = 0x27e0eb;
const CGROUP2_SUPER_MAGIC = 0x63677270;

/** The cgroup version of the filesystem at `root`; undefined when it is no cgroup mount (a test's fixture tree). */
export function cgroupMountVersion(root: string | undefined): 1 | 2 | undefined {
  try {
    const type = root === undefined ? undefined : statfsSync(root).type;
    return type === CGROUP_SUPER_MAGIC ? 1 : type === CGROUP2_SUPER_MAGIC ? 2 : undefined;
  } catch {
    return undefined;
  }
}

function isCgroupMount(root: string | undefined): boolean {
  return cgroupMountVersion(root) !== undefined;
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
