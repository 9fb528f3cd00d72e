// memory_free: host time stalled in direct reclaim and direct compaction, summed in kernel by bpf/memory_free.bpf.c
// and read with one map dump per scrape. Nanoseconds, as the user guide's table says (HUATUO's code exported ms).
import { decodeMemoryFreeStall, type MemoryFreeStall } from "../bpf/gen/memory_free";
import type { HookKind, HookSpec } from "../bpf/hooks";
import type { LoadOptions, TracerBpf } from "../bpf/loader";
import type { BpfMap } from "../bpf/maps";
import type { BpfObject } from "../bpf/object";
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector, Tracer } from "../framework/types";
import { loadMetricBpf } from "./bpf_tracer";
import { toSecondsHistogram } from "./latency_hist";

function hook(event: string, program: string, kind: "kprobe" | "kretprobe", kernelFunction: string): HookSpec {
  const group = event.startsWith("mm_vmscan") ? "vmscan" : "compaction";
  const candidate = (k: HookKind, prefix: string, target: string) => ({ kind: k, program: `memory_free_${prefix}_${program}`, target });
  return {
    name: event,
    candidates: [
      candidate("tp_btf", "btf", `${group}/${event}`),
      candidate("raw_tp", "raw", `${group}/${event}`),
      candidate("tracepoint", "tp", `${group}/${event}`),
      candidate(kind, "kp", kernelFunction),
    ],
  };
}

/**
 * Direct compaction has a tracepoint where it starts but none where it ends: the stall runs from
 * mm_compaction_try_to_compact_pages to the last zone's mm_compaction_end (see the BPF source). The kprobe
 * variant times try_to_compact_pages itself, as HUATUO did.
 */
export const memoryFreeBpf: TracerBpf = {
  object: "memory_free",
  hooks: [
    hook("mm_vmscan_direct_reclaim_begin", "reclaim_begin", "kprobe", "try_to_free_pages"),
    hook("mm_vmscan_direct_reclaim_end", "reclaim_end", "kretprobe", "try_to_free_pages"),
    hook("mm_compaction_try_to_compact_pages", "compact_begin", "kprobe", "try_to_compact_pages"),
    hook("mm_compaction_end", "compact_end", "kretprobe", "try_to_compact_pages"),
  ],
};

export function emitMemoryFree(emit: Emitter, stall: MemoryFreeStall): void {
  emit.gauge("allocpages_stall", "time stalled in alloc pages (direct reclaim), nanoseconds", stall.allocpages_ns);
  emit.gauge("compaction_stall", "time stalled in memory compaction (direct compaction), nanoseconds", stall.compaction_ns);
  emit.histogram("allocpages_stall_seconds", "direct reclaim stalls in the page allocator", toSecondsHistogram(stall.allocpages));
}

class MemoryFreeCollector implements MetricCollector {
  private readonly map: BpfMap;

  constructor(object: BpfObject) {
    this.map = object.map("memory_free_stall");
  }

  collect(emit: Emitter): void {
    const dump = this.map.dump();
    if (dump.count !== 1) throw new Error(`memory_free_stall: ${dump.count} entries, expected 1`);
    const view = new DataView(dump.values.buffer, dump.values.byteOffset, dump.valueStride);
    emitMemoryFree(emit, decodeMemoryFreeStall(view, 0));
  }
}

export async function createMemoryFree(options: LoadOptions = {}): Promise<Tracer> {
  const object = await loadMetricBpf(memoryFreeBpf, options);
  return { hook: object.hook, collector: new MemoryFreeCollector(object), close: () => object.close() };
}

registerTracer({
  name: "memory_free",
  kind: "metric",
  description: "host time stalled in direct reclaim and direct compaction (vmscan and compaction tracepoints), in BPF",
  create: () => createMemoryFree(),
});
