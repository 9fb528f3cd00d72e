// memory_reclaim: direct reclaims per container memory cgroup, counted in kernel by bpf/memory_reclaim.bpf.c and read
// with one map dump per scrape; `memory_reclaim_container_directstall` for each normal container (0 when none yet).
import type { HookKind } from "../bpf/hooks";
import type { LoadOptions, TracerBpf } from "../bpf/loader";
import type { BpfMap } from "../bpf/maps";
import type { BpfObject } from "../bpf/object";
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector, Tracer, TracerContext } from "../framework/types";
import type { Container } from "../pod/types";
import { loadMetricBpf } from "./bpf_tracer";
import { ContainerCgroupIds, pruneCgroupKeys } from "./cgroup_ids";
import { normalContainers } from "./containers";

const candidate = (kind: HookKind, prefix: string, target: string) => ({ kind, program: `memory_reclaim_${prefix}_begin`, target });

export const memoryReclaimBpf: TracerBpf = {
  object: "memory_reclaim",
  hooks: [
    {
      name: "mm_vmscan_memcg_reclaim_begin",
      candidates: [
        candidate("tp_btf", "btf", "vmscan/mm_vmscan_memcg_reclaim_begin"),
        candidate("raw_tp", "raw", "vmscan/mm_vmscan_memcg_reclaim_begin"),
        candidate("tracepoint", "tp", "vmscan/mm_vmscan_memcg_reclaim_begin"),
        candidate("kprobe", "kp", "try_to_free_mem_cgroup_pages"),
      ],
    },
  ],
};

const HELP = "counter of cgroup reclaim when try_charge";

export function emitDirectStall(emit: Emitter, containers: Iterable<[bigint, Container]>, counts: ReadonlyMap<bigint, number>): void {
  for (const [id, c] of containers) emit.forContainer(c).gauge("directstall", HELP, counts.get(id) ?? 0);
}

class MemoryReclaimCollector implements MetricCollector {
  private readonly map: BpfMap;
  private readonly ids = new ContainerCgroupIds("memory");

  constructor(
    object: BpfObject,
    private readonly ctx: TracerContext,
  ) {
    this.map = object.map("memory_reclaim_count");
  }

  collect(emit: Emitter): void {
    const containers = this.ids.resolve(normalContainers(this.ctx));
    const dump = this.map.dump();
    const counts = new Map<bigint, number>();
    for (let i = 0; i < dump.count; i++) {
      counts.set(dump.keys.readBigUInt64LE(i * dump.keySize), Number(dump.values.readBigUInt64LE(i * dump.valueStride)));
    }
    pruneCgroupKeys(this.map, dump, containers);
    emitDirectStall(emit, containers, counts);
  }
}

export async function createMemoryReclaim(ctx: TracerContext, options: LoadOptions = {}): Promise<Tracer> {
  const object = await loadMetricBpf(memoryReclaimBpf, options);
  return { hook: object.hook, collector: new MemoryReclaimCollector(object, ctx), close: () => object.close() };
}

registerTracer({
  name: "memory_reclaim",
  kind: "metric",
  description: "direct reclaims per container memory cgroup (vmscan:mm_vmscan_memcg_reclaim_begin), counted in BPF",
  create: (ctx) => createMemoryReclaim(ctx),
});
