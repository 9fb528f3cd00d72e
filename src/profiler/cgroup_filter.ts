// The profiler's cgroup filter for a container: the ids (directory inodes) of its cgroup and every cgroup below it,
// on the hierarchy whose id the BPF program reads for the sampled task.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { hostCgroups, type CgroupTarget } from "../pod/cgroup_reader";
import type { CgroupFilter } from "./sampler";

/** More cgroups than fit the BPF filter map (1024) would be a container that nests like no runtime does. */
const MAX_CGROUPS = 1024;

/** Undefined when the container has no cpu cgroup here (gone, or no cpu controller mounted). */
export function cgroupFilterFor(target: CgroupTarget): CgroupFilter | undefined {
  const dir = hostCgroups().dir(target, "cpu");
  if (!dir) return undefined;
  const ids: bigint[] = [];
  collect(dir.path, ids);
  if (ids.length === 0) return undefined;
  // v1: the task's cpu-controller cgroup; v2: its own cgroup (the cpu controller may not be enabled down there).
  return { ids, hierarchy: dir.version === 1 ? "cpu" : "unified" };
}

/** Cgroups created while a capture runs are not sampled: the set is fixed when it starts. */
function collect(dir: string, ids: bigint[]): void {
  if (ids.length >= MAX_CGROUPS) return;
  try {
    ids.push(statSync(dir, { bigint: true }).ino);
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.isDirectory()) collect(join(dir, entry.name), ids);
    }
  } catch {
    // removed meanwhile
  }
}
