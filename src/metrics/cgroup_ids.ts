// Containers by cgroup id, for BPF maps keyed by it: the kernel's kernfs node id, which user space reads as the
// inode of the cgroup directory (v1: in the controller's hierarchy; v2: the unified one).
import { statSync } from "node:fs";
import type { BpfMap, MapDump } from "../bpf/maps";
import { hostCgroups } from "../pod/cgroup_reader";
import type { Container } from "../pod/types";

export class ContainerCgroupIds {
  /** Container id → cgroup id: a container keeps its cgroup directory for life. */
  private readonly ids = new Map<string, bigint>();

  constructor(private readonly controller: string) {}

  /** The containers whose cgroup directory exists, by its id. */
  resolve(containers: Container[]): Map<bigint, Container> {
    const live = new Set(containers.map((c) => c.id));
    for (const id of this.ids.keys()) if (!live.has(id)) this.ids.delete(id);
    const out = new Map<bigint, Container>();
    for (const c of containers) {
      const id = this.idOf(c);
      if (id !== undefined) out.set(id, c);
    }
    return out;
  }

  private idOf(c: Container): bigint | undefined {
    const known = this.ids.get(c.id);
    if (known !== undefined) return known;
    const dir = hostCgroups().dir(c, this.controller);
    if (!dir) return undefined;
    try {
      const id = statSync(dir.path, { bigint: true }).ino;
      this.ids.set(c.id, id);
      return id;
    } catch {
      // not created yet, or gone: retried on the next scrape
      return undefined;
    }
  }
}

/**
 * Deletes the entries whose cgroup id (the key's first 8 bytes) is no current container's: cgroups that vanished,
 * and host cgroups no series is emitted for. The kernel offers no tracepoint when a cgroup is released.
 */
export function pruneCgroupKeys(map: BpfMap, dump: MapDump, keep: ReadonlyMap<bigint, unknown>): number {
  let pruned = 0;
  for (let i = 0; i < dump.count; i++) {
    const key = dump.keys.subarray(i * dump.keySize, (i + 1) * dump.keySize);
    if (keep.has(key.readBigUInt64LE(0))) continue;
    if (map.delete(key)) pruned++;
  }
  return pruned;
}
