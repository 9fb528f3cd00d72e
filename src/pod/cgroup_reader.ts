// The collectors' way into container cgroups: the path of a controller file for a container (v1 or v2), and reads
// joined across collectors: the collectors of a scrape start together, so a file several of them need is read once.
import { existsSync } from "node:fs";
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
  /** Directories of a Container per controller, as long as the object lives (a pod sync makes new ones). */
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
   * exited, a file this kernel lacks). A caller asking while the same file is being read joins that read.
   */
  read(target: CgroupTarget, controller: string, file: string): Promise<string | undefined> {
    const dir = this.dir(target, controller);
    const key = `${controller}/${file}`;
    if (dir === undefined || this.absent.has(key)) return Promise.resolve(undefined);
    const path = `${dir.path}/${file}`;
    const pending = this.inFlight.get(path);
    if (pending) return pending;
    const text = readCgroupText(path, () => this.notFound(target, dir, key)).finally(() => this.inFlight.delete(path));
    this.inFlight.set(path, text);
    return text;
  }

  /** Remembers a missing file when the kernel lacks it, not when the cgroup itself went away meanwhile. */
  private notFound(target: CgroupTarget, dir: CgroupDir, key: string): void {
    const rel = typeof target === "string" ? target : target.cgroupPath;
    // The root cgroup (the host) has files its children lack and the other way round.
    if (dir.version === 1 && rel.replace(/\/+/g, "") !== "" && existsSync(dir.path)) this.absent.add(key);
  }
}

/** ENODEV is what reading a file of a cgroup being removed returns (kernfs deactivated node); it means "gone". */
const GONE = new Set(["ENOENT", "ENOTDIR", "ENODEV", "ESRCH"]);

async function readCgroupText(path: string, onNotFound: () => void): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? "";
    if (!GONE.has(code)) throw err;
    if (code === "ENOENT") onNotFound();
    return undefined;
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
