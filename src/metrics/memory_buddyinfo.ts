// memory_buddyinfo: free blocks per NUMA node, zone and order from /proc/buddyinfo (fragmentation at a glance).
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector } from "../framework/types";
import { procPath, readTextAsync } from "../procfs/root";

export interface BuddyZone {
  node: string;
  zone: string;
  /** Free blocks of 2^order pages, indexed by order. */
  blocks: number[];
}

/**
 * Parses lines like `Node 0, zone   Normal   3106   2012 ...`. The number of orders is not fixed: 11 (0-10)
 * on x86_64, but arm64 kernels with 16K/64K pages or CONFIG_ARCH_FORCE_MAX_ORDER print a different count.
 */
export function parseBuddyInfo(text: string): BuddyZone[] {
  const zones: BuddyZone[] = [];
  for (const line of text.split("\n")) {
    const m = /^Node\s+(\d+),\s*zone\s+(\S+)((?:\s+\d+)+)\s*$/.exec(line);
    if (m) zones.push({ node: m[1], zone: m[2], blocks: m[3].trim().split(/\s+/).map(Number) });
  }
  return zones;
}

class BuddyInfoCollector implements MetricCollector {
  async collect(emit: Emitter): Promise<void> {
    for (const { node, zone, blocks } of parseBuddyInfo(await readTextAsync(procPath("buddyinfo")))) {
      blocks.forEach((count, order) => emit.gauge("blocks", "buddy info", count, { node, zone, order: String(order) }));
    }
  }
}

registerTracer({
  name: "memory_buddyinfo",
  kind: "metric",
  description: "free page blocks per node, zone and order from /proc/buddyinfo",
  create: () => ({ hook: "procfs", collector: new BuddyInfoCollector() }),
});
