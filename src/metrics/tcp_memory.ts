// tcp_memory: memory held by all TCP sockets (/proc/net/sockstat `TCP ... mem`, in pages) against the
// pressure limit /proc/sys/net/ipv4/tcp_mem[2]. Both are host-wide, whatever namespace reads them.
import { registerTracer } from "../framework/registry";
import { UnsupportedError, type Emitter, type MetricCollector } from "../framework/types";
import { pathExists, procPath, readTextAsync } from "../procfs/root";
import { pageSize, parseSockstat } from "./sockstat";

/** The third of tcp_mem's `min pressure max` triple, in pages: above it new TCP allocations fail. */
export function parseTcpMemLimit(text: string): number {
  const fields = text.trim().split(/\s+/).map(Number);
  const max = fields[2];
  if (fields.length !== 3 || max === undefined || !fields.every(Number.isFinite)) {
    throw new Error(`tcp_mem: malformed ${JSON.stringify(text.trim())}`);
  }
  return max;
}

export interface TcpMemory {
  usagePages: number;
  limitPages: number;
}

/** The TCP `mem` pages of a sockstat text. */
export function tcpMemPages(sockstatText: string): number {
  const pages = parseSockstat(sockstatText).protocols.get("TCP")?.get("mem");
  if (pages === undefined) throw new Error("sockstat: no TCP mem field");
  return pages;
}

export function emitTcpMemory(emit: Emitter, mem: TcpMemory, bytesPerPage: number): void {
  emit.gauge("usage_pages", "tcp memory pages usage", mem.usagePages);
  emit.gauge("usage_bytes", "tcp memory bytes usage", mem.usagePages * bytesPerPage);
  emit.gauge("limit_pages", "tcp memory pages limit", mem.limitPages);
  // A fraction (0..1), not a percentage, as the original exports it despite the name.
  emit.gauge("usage_percent", "tcp memory usage percent", mem.limitPages > 0 ? mem.usagePages / mem.limitPages : 0);
}

class TcpMemoryCollector implements MetricCollector {
  async collect(emit: Emitter): Promise<void> {
    const [sockstat, tcpMem] = await Promise.all([
      readTextAsync(procPath("net", "sockstat")),
      readTextAsync(procPath("sys", "net", "ipv4", "tcp_mem")),
    ]);
    emitTcpMemory(emit, { usagePages: tcpMemPages(sockstat), limitPages: parseTcpMemLimit(tcpMem) }, pageSize());
  }
}

registerTracer({
  name: "tcp_memory",
  kind: "metric",
  description: "TCP socket memory against the tcp_mem limit",
  create: () => {
    if (!pathExists(procPath("sys", "net", "ipv4", "tcp_mem"))) {
      throw new UnsupportedError("/proc/sys/net/ipv4/tcp_mem not found");
    }
    return { hook: "procfs", collector: new TcpMemoryCollector() };
  },
});
