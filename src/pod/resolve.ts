// Finds a pod container on this host: its cgroup directory, a pid inside it and its network namespace.
// Results are cached per container id; a full kubepods scan runs at most once per sync, and only when needed.
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { procPath } from "../procfs/root";
import { referenceRoot, type CgroupLayout } from "./cgroup";
import { findExpectedPath, scanKubepods } from "./cgroup_paths";
import type { PodContainer } from "./pods";
import type { Container } from "./types";

interface HostFacts {
  cgroupPath: string;
  initPid: number;
  netnsInode: number;
}

export class ContainerResolver {
  private readonly cache = new Map<string, HostFacts>();
  private scan?: Map<string, string>;
  private readonly root: string | undefined;

  constructor(layout: CgroupLayout) {
    this.root = referenceRoot(layout);
  }

  /** Call before resolving one sync's containers: the scan result is reused within a sync only. */
  beginSync(): void {
    this.scan = undefined;
  }

  /** Forget containers no longer listed, so the cache stays the size of the pod list. */
  retain(ids: ReadonlySet<string>): void {
    for (const id of this.cache.keys()) if (!ids.has(id)) this.cache.delete(id);
  }

  /** The full container, or undefined when its cgroup is not on this host (not started yet, exited, removed). */
  resolve(pc: PodContainer): Container | undefined {
    const facts = this.hostFacts(pc);
    if (!facts) return undefined;
    const { running: _running, ...identity } = pc;
    return { ...identity, ...facts };
  }

  private hostFacts(pc: PodContainer): HostFacts | undefined {
    if (this.root === undefined) return undefined;
    const cached = this.cache.get(pc.id);
    if (cached && existsSync(join(this.root, cached.cgroupPath))) {
      if (cached.initPid === 0 || !existsSync(procPath(String(cached.initPid)))) this.refreshPid(cached);
      return cached;
    }
    const cgroupPath = this.locate(pc);
    if (cgroupPath === undefined) return undefined;
    const facts: HostFacts = { cgroupPath, initPid: 0, netnsInode: 0 };
    this.refreshPid(facts);
    this.cache.set(pc.id, facts);
    return facts;
  }

  private locate(pc: PodContainer): string | undefined {
    const expected = findExpectedPath(this.root!, pc.podUid, pc.qos, pc.id);
    if (expected !== undefined) return expected;
    this.scan ??= scanKubepods(this.root!);
    const found = this.scan.get(pc.id);
    return found !== undefined && existsSync(join(this.root!, found)) ? found : undefined;
  }

  /** The first process of the cgroup (v1 lists cgroup.procs sorted, so that is the lowest pid) and its netns. */
  private refreshPid(facts: HostFacts): void {
    facts.initPid = firstPid(join(this.root!, facts.cgroupPath, "cgroup.procs"));
    facts.netnsInode = facts.initPid === 0 ? 0 : netnsInode(facts.initPid);
  }
}

function firstPid(procsFile: string): number {
  try {
    const first = readFileSync(procsFile, "utf8").split("\n", 1)[0]!;
    return /^\d+$/.test(first) ? Number(first) : 0;
  } catch {
    return 0;
  }
}

/** stat() follows the /proc/<pid>/ns/net magic link to the nsfs inode, which identifies the namespace. */
export function netnsInode(pid: number): number {
  try {
    return statSync(procPath(String(pid), "ns/net")).ino;
  } catch {
    return 0;
  }
}
