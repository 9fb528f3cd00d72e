// mountpoint_perm: whether selected mount points are mounted read-only, from /proc/self/mountinfo.
// A filesystem remounted ro after I/O errors (ext4 errors=remount-ro) shows up here first.
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector, TracerContext } from "../framework/types";
import { procPath, readTextAsync } from "../procfs/root";
import { passesFilter } from "./filter";

export interface MountPerm {
  mountPoint: string;
  readOnly: boolean;
}

/** mountinfo escapes space, tab, newline and backslash in paths as octal (`\040`). */
function unescapeOctal(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * One entry per mount point: `id parent maj:min root mountpoint options ...`. The per-mount options (field 6)
 * decide ro, not the superblock options after ` - `. When a path is mounted over, the later line is the
 * visible mount and wins.
 */
export function parseMountInfo(text: string): MountPerm[] {
  const byPath = new Map<string, boolean>();
  for (const line of text.split("\n")) {
    const fields = line.trim().split(" ");
    if (fields.length < 6) continue;
    byPath.set(unescapeOctal(fields[4]), fields[5].split(",").includes("ro"));
  }
  return [...byPath].map(([mountPoint, readOnly]) => ({ mountPoint, readOnly }));
}

class MountPointPermCollector implements MetricCollector {
  constructor(private readonly ctx: TracerContext) {}

  async collect(emit: Emitter): Promise<void> {
    const included = this.ctx.config.get().MetricCollector.MountPointStat.MountPointsIncluded;
    for (const { mountPoint, readOnly } of parseMountInfo(await readTextAsync(procPath("self/mountinfo")))) {
      if (!passesFilter(mountPoint, included)) continue;
      emit.gauge("ro", "whether the mount point is mounted read-only", readOnly ? 1 : 0, { mountpoint: mountPoint });
    }
  }
}

registerTracer({
  name: "mountpoint_perm",
  kind: "metric",
  description: "read-only flag of mount points from /proc/self/mountinfo",
  create: (ctx) => ({ hook: "procfs", collector: new MountPointPermCollector(ctx) }),
});
