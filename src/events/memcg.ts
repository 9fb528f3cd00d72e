// Attributes events to containers through the memory cgroup: a kernfs id read in BPF (the inode of the cgroup's
// directory) or a task's /proc/<pid>/cgroup line, matched against the containers' directories in that hierarchy.
import { readdirSync, statSync, type Dirent } from "node:fs";
import { join } from "node:path";
import { controllerDir, detectLayout, type CgroupLayout, type ControllerDir } from "../pod/cgroup";
import type { Container, ContainerSource } from "../pod/types";
import { procPath, readTextSync } from "../procfs/root";

/** Directories visited at most when looking an id up in the whole hierarchy (ids of non-container cgroups). */
const WALK_LIMIT = 50_000;
const CACHE_LIMIT = 4096;

export class MemcgResolver {
  private readonly memory: ControllerDir | undefined;
  /** Walk results, misses included (null): kernfs ids are not reused soon, and a miss costs a whole walk. */
  private readonly cache = new Map<bigint, string | null>();
  private indexedFrom?: readonly Container[];
  private containerIds = new Map<bigint, string>();

  constructor(
    readonly containers: ContainerSource,
    layout: CgroupLayout = detectLayout(),
  ) {
    this.memory = controllerDir(layout, "memory");
  }

  /** cgroup v1 (the memory controller's hierarchy) or v2; undefined without a memory controller. */
  get version(): 1 | 2 | undefined {
    return this.memory?.version;
  }

  /** The directory of a cgroup path ("" is the root). */
  dir(path: string): string | undefined {
    return this.memory ? join(this.memory.root, path) : undefined;
  }

  /** The path (relative to the hierarchy root, "" for the root) of a memory cgroup's kernfs id. */
  pathOfId(id: bigint): string | undefined {
    if (id === 0n || !this.memory) return undefined;
    const known = this.containerPath(id);
    if (known !== undefined) return known;
    const cached = this.cache.get(id);
    if (cached !== undefined) return cached ?? undefined;
    const path = walk(this.memory.root, id);
    this.remember(id, path ?? null);
    return path;
  }

  /** The memory cgroup path of a live task, from /proc/<pid>/cgroup. */
  pathOfPid(pid: number): string | undefined {
    if (!this.memory || pid <= 0) return undefined;
    let text: string;
    try {
      text = readTextSync(procPath(String(pid), "cgroup"));
    } catch {
      return undefined;
    }
    return memoryPathFromProcCgroup(text, this.memory.version);
  }

  /** The container whose cgroup is `path` or contains it (the longest match). */
  containerOf(path: string | undefined): Container | undefined {
    if (path === undefined) return undefined;
    let best: Container | undefined;
    for (const c of this.containers.list()) {
      const p = trimSlashes(c.cgroupPath);
      if (!p || (path !== p && !path.startsWith(`${p}/`))) continue;
      if (!best || p.length > trimSlashes(best.cgroupPath).length) best = c;
    }
    return best;
  }

  private containerPath(id: bigint): string | undefined {
    const list = this.containers.list();
    if (list !== this.indexedFrom) {
      this.indexedFrom = list;
      this.containerIds = new Map();
      for (const c of list) {
        const ino = inode(join(this.memory!.root, c.cgroupPath));
        if (ino !== undefined) this.containerIds.set(ino, trimSlashes(c.cgroupPath));
      }
    }
    return this.containerIds.get(id);
  }

  private remember(id: bigint, path: string | null): void {
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(id, path);
  }
}

/** The memory cgroup of a /proc/<pid>/cgroup text: the `memory` line on v1, the `0::` line on v2. */
export function memoryPathFromProcCgroup(text: string, version: 1 | 2): string | undefined {
  for (const line of text.split("\n")) {
    const first = line.indexOf(":");
    const second = line.indexOf(":", first + 1);
    if (first < 0 || second < 0) continue;
    const controllers = line.slice(first + 1, second);
    const match = version === 2 ? line.startsWith("0::") : controllers.split(",").includes("memory");
    if (match) return trimSlashes(line.slice(second + 1));
  }
  return undefined;
}

function trimSlashes(path: string): string {
  return path.replace(/^\/+|\/+$/g, "");
}

function inode(dir: string): bigint | undefined {
  try {
    return statSync(dir, { bigint: true }).ino;
  } catch {
    return undefined;
  }
}

/** Breadth-first search of the hierarchy for the directory with this inode. */
function walk(root: string, id: bigint): string | undefined {
  const queue = [""];
  for (let i = 0; i < queue.length && i < WALK_LIMIT; i++) {
    const path = queue[i]!;
    const dir = join(root, path);
    if (inode(dir) === id) return path;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) if (e.isDirectory()) queue.push(path ? `${path}/${e.name}` : e.name);
  }
  return undefined;
}
