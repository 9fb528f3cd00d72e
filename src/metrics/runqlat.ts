// runqlat: run-queue latency aggregated in kernel by bpf/runqlat.bpf.c, read with one dump per map per scrape:
// HUATUO's zone counters `runqlat_latency{zone}`, a real histogram `runqlat_latency_seconds`, and per container
// (normal containers, by the id of their cpu cgroup) `runqlat_container_latency{zone}`.
import { decodeRunqlatHist, type RunqlatHist } from "../bpf/gen/runqlat";
import type { HookKind, HookSpec } from "../bpf/hooks";
import type { LoadOptions, TracerBpf } from "../bpf/loader";
import type { BpfMap } from "../bpf/maps";
import { constant, type BpfObject } from "../bpf/object";
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector, Tracer, TracerContext } from "../framework/types";
import { loadMetricBpf } from "./bpf_tracer";
import { ContainerCgroupIds, pruneCgroupKeys } from "./cgroup_ids";
import { normalContainers } from "./containers";
import { toSecondsHistogram } from "./latency_hist";

/** Each scheduler event's candidates, best first; a kprobe serves kernels without the tracepoints. */
function hook(event: string, program: string, kernelFunction?: string): HookSpec {
  const candidate = (kind: HookKind, prefix: string, target: string) => ({ kind, program: `runqlat_${prefix}_${program}`, target });
  const candidates = [
    candidate("tp_btf", "btf", `sched/${event}`),
    candidate("raw_tp", "raw", `sched/${event}`),
    candidate("tracepoint", "tp", `sched/${event}`),
  ];
  if (kernelFunction) candidates.push(candidate("kprobe", "kp", kernelFunction));
  return { name: event, candidates, optional: !kernelFunction };
}

/** perCgroup: also aggregate per cpu cgroup; the classic tracepoint variant carries pids only and cannot. */
export function runqlatSpec(perCgroup: boolean): TracerBpf {
  return {
    object: "runqlat",
    hooks: [
      hook("sched_wakeup", "wakeup", "try_to_wake_up"),
      hook("sched_wakeup_new", "wakeup_new", "wake_up_new_task"),
      hook("sched_switch", "switch", "finish_task_switch"),
      // cleanup only: without it, entries of exited tasks wait for their pid to be reused
      hook("sched_process_exit", "exit"),
    ],
    constants: { per_cgroup: constant.bool(perCgroup) },
  };
}

export const runqlatBpf = runqlatSpec(false);

const ZONE_HELP = "run-queue latency events by zone: 0 [0,10ms) 1 [10,20ms) 2 [20,50ms) 3 [50ms,+inf)";

export function emitRunqlat(emit: Emitter, hist: RunqlatHist): void {
  hist.zones.forEach((count, zone) => emit.counter("latency", ZONE_HELP, count, { zone: String(zone) }));
  emit.histogram("latency_seconds", "run-queue latency: wakeup or preemption until on CPU", toSecondsHistogram(hist));
}

/** Zones only per container: a histogram each would multiply the series by 29 per container. */
export function emitContainerRunqlat(emit: Emitter, hist: RunqlatHist): void {
  hist.zones.forEach((count, zone) => emit.counter("latency", ZONE_HELP, count, { zone: String(zone) }));
}

function decodeAll(dump: { count: number; values: Buffer; valueStride: number }): RunqlatHist[] {
  const view = new DataView(dump.values.buffer, dump.values.byteOffset, dump.values.byteLength);
  return Array.from({ length: dump.count }, (_, i) => decodeRunqlatHist(view, i * dump.valueStride));
}

class RunqlatCollector implements MetricCollector {
  private readonly host: BpfMap;
  private readonly cgroups: BpfMap;
  private readonly ids = new ContainerCgroupIds("cpu");

  constructor(
    object: BpfObject,
    private readonly ctx: TracerContext | undefined,
  ) {
    this.host = object.map("runqlat_host");
    this.cgroups = object.map("runqlat_cgroup");
  }

  collect(emit: Emitter): void {
    const host = this.host.dump();
    if (host.count !== 1) throw new Error(`runqlat_host: ${host.count} entries, expected 1`);
    emitRunqlat(emit, decodeAll(host)[0]!);
    if (this.ctx) this.collectContainers(emit, this.ctx);
  }

  /** Entries of cgroups that are no current container's are deleted: vanished containers and host cgroups. */
  private collectContainers(emit: Emitter, ctx: TracerContext): void {
    const containers = this.ids.resolve(normalContainers(ctx));
    const dump = this.cgroups.dump();
    decodeAll(dump).forEach((hist, i) => {
      const c = containers.get(dump.keys.readBigUInt64LE(i * dump.keySize));
      if (c) emitContainerRunqlat(emit.forContainer(c), hist);
    });
    pruneCgroupKeys(this.cgroups, dump, containers);
  }
}

/** Loads and attaches the programs; without ctx (tests) only host series, and no per-cgroup aggregation. */
export async function createRunqlat(options: LoadOptions = {}, ctx?: TracerContext): Promise<Tracer> {
  const object = await loadMetricBpf(runqlatSpec(ctx !== undefined), options);
  return { hook: object.hook, collector: new RunqlatCollector(object, ctx), close: () => object.close() };
}

registerTracer({
  name: "runqlat",
  kind: "metric",
  description: "run-queue latency (sched_wakeup, sched_wakeup_new, sched_switch) aggregated in BPF, host and containers",
  create: (ctx) => createRunqlat({}, ctx),
});
