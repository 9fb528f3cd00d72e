// runqlat: run-queue latency aggregated in kernel by bpf/runqlat.bpf.c, read with one map dump per scrape:
// HUATUO's zone counters `runqlat_latency{zone}` and a real histogram `runqlat_latency_seconds`. Host series.
import { decodeRunqlatHist, type RunqlatHist } from "../bpf/gen/runqlat";
import type { HookKind, HookSpec } from "../bpf/hooks";
import { isUnsupported, loadTracer, type LoadOptions, type TracerBpf } from "../bpf/loader";
import type { BpfMap } from "../bpf/maps";
import { constant, type BpfObject } from "../bpf/object";
import { registerTracer } from "../framework/registry";
import { UnsupportedError, type Emitter, type HistogramValue, type MetricCollector, type Tracer } from "../framework/types";

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

export const runqlatBpf: TracerBpf = {
  object: "runqlat",
  hooks: [
    hook("sched_wakeup", "wakeup", "try_to_wake_up"),
    hook("sched_wakeup_new", "wakeup_new", "wake_up_new_task"),
    hook("sched_switch", "switch", "finish_task_switch"),
    // cleanup only: without it, entries of exited tasks wait for their pid to be reused
    hook("sched_process_exit", "exit"),
  ],
  // container series need the cgroup → container mapping; until then the per-cgroup map stays empty
  constants: { per_cgroup: constant.bool(false) },
};

/** Slot k of the BPF histogram counts latencies below 2^k µs; the last slot also holds everything above. */
export function toHistogram(hist: RunqlatHist): HistogramValue {
  const buckets: HistogramValue["buckets"] = [];
  let cumulative = 0;
  for (let k = 0; k < hist.slots.length - 1; k++) {
    cumulative += hist.slots[k]!;
    buckets.push([2 ** k / 1e6, cumulative]);
  }
  return { buckets, sum: hist.sum_ns / 1e9, count: hist.count };
}

const ZONE_HELP = "run-queue latency events by zone: 0 [0,10ms) 1 [10,20ms) 2 [20,50ms) 3 [50ms,+inf)";

export function emitRunqlat(emit: Emitter, hist: RunqlatHist): void {
  hist.zones.forEach((count, zone) => emit.counter("latency", ZONE_HELP, count, { zone: String(zone) }));
  emit.histogram("latency_seconds", "run-queue latency: wakeup or preemption until on CPU", toHistogram(hist));
}

class RunqlatCollector implements MetricCollector {
  private readonly host: BpfMap;

  constructor(object: BpfObject) {
    this.host = object.map("runqlat_host");
  }

  collect(emit: Emitter): void {
    const dump = this.host.dump();
    if (dump.count !== 1) throw new Error(`runqlat_host: ${dump.count} entries, expected 1`);
    const view = new DataView(dump.values.buffer, dump.values.byteOffset, dump.valueStride);
    emitRunqlat(emit, decodeRunqlatHist(view, 0));
  }
}

/** Loads and attaches the programs; the tracer's hook names what they run on. */
export async function createRunqlat(options: LoadOptions = {}): Promise<Tracer> {
  let object: BpfObject;
  try {
    object = await loadTracer(runqlatBpf, options);
  } catch (err) {
    if (isUnsupported(err)) throw new UnsupportedError((err as Error).message);
    throw err;
  }
  return { hook: object.hook, collector: new RunqlatCollector(object), close: () => object.close() };
}

registerTracer({
  name: "runqlat",
  kind: "metric",
  description: "run-queue latency (sched_wakeup, sched_wakeup_new, sched_switch) aggregated in BPF",
  create: () => createRunqlat(),
});
