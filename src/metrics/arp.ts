// arp: neighbour (ARP) entries of the host namespace (/proc/1/net/arp) and of every namespace together
// (the `entries` column of /proc/net/stat/arp_cache, which counts the whole arp_tbl), and of each Normal container's
// own namespace (/proc/<initPid>/net/arp).
import { registerTracer } from "../framework/registry";
import { UnsupportedError, type Emitter, type MetricCollector, type TracerContext } from "../framework/types";
import { pathExists, procPath, readTextAsync, readTextSync } from "../procfs/root";
import { normalContainers, readEachNetns } from "./containers";

/** Entries in a /proc/<pid>/net/arp text: its lines after the header. */
export function countArpEntries(text: string): number {
  return Math.max(0, text.split("\n").filter((l) => l.trim() !== "").length - 1);
}

/**
 * The table-wide entry count from /proc/net/stat/arp_cache. Each data row is one CPU, but `entries` is the
 * table's single atomic counter, printed identically on every row, in hex.
 */
export function parseArpCacheEntries(text: string): number {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  const header = (lines[0] ?? "").trim().split(/\s+/);
  const column = header.indexOf("entries");
  const value = parseInt((lines[1] ?? "").trim().split(/\s+/)[column] ?? "", 16);
  if (column < 0 || !Number.isFinite(value)) throw new Error("arp_cache: no entries column");
  return value;
}

/** ARP entries of process `pid`'s namespace; a container's is `/proc/<initPid>/net/arp`. */
export async function readArpEntries(pid: number): Promise<number> {
  return countArpEntries(readTextSync(procPath(String(pid), "net", "arp")));
}

class ArpCollector implements MetricCollector {
  constructor(private readonly ctx: TracerContext) {}

  async collect(emit: Emitter): Promise<void> {
    const [entries, cache] = await Promise.all([
      readArpEntries(1),
      readTextAsync(procPath("net", "stat", "arp_cache")),
    ]);
    emit.gauge("entries", "host init namespace", entries);
    emit.gauge("total", "all entries in arp_cache for containers and host netns", parseArpCacheEntries(cache));
    for (const [c, own] of await readEachNetns(normalContainers(this.ctx), readArpEntries)) {
      emit.forContainer(c).gauge("entries", "arp entries in the container netns", own);
    }
  }
}

registerTracer({
  name: "arp",
  kind: "metric",
  description: "ARP entries of the host namespace and of all namespaces",
  create: (ctx) => {
    if (!pathExists(procPath("net", "stat", "arp_cache"))) {
      throw new UnsupportedError("/proc/net/stat/arp_cache not found");
    }
    return { hook: "procfs", collector: new ArpCollector(ctx) };
  },
});
