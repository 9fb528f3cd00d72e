// softirq: NET_TX and NET_RX raise-to-entry latency aggregated per CPU by bpf/softirq.bpf.c, read with one map dump
// per scrape: HUATUO's `softirq_latency{cpuid,type,zone}` counters and a `softirq_latency_seconds{type}` histogram.
import { decodeSoftirqLat, softirqLatLayout, type SoftirqLat } from "../bpf/gen/softirq";
import type { HookKind, HookSpec } from "../bpf/hooks";
import type { LoadOptions, TracerBpf } from "../bpf/loader";
import type { BpfMap } from "../bpf/maps";
import type { BpfObject } from "../bpf/object";
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector, Tracer } from "../framework/types";
import { readTextAsync, sysPath } from "../procfs/root";
import { loadMetricBpf } from "./bpf_tracer";
import { addHist, emptyHist, toSecondsHistogram } from "./latency_hist";

/** Map index → HUATUO's type label (index = vector - NET_TX_SOFTIRQ). */
const TYPES = ["NET_TX", "NET_RX"] as const;

function hook(event: string, program: string, kernelFunction: string): HookSpec {
  const candidate = (kind: HookKind, prefix: string, target: string) => ({ kind, program: `softirq_${prefix}_${program}`, target });
  return {
    name: event,
    candidates: [
      candidate("tp_btf", "btf", `irq/${event}`),
      candidate("raw_tp", "raw", `irq/${event}`),
      candidate("tracepoint", "tp", `irq/${event}`),
      candidate("kprobe", "kp", kernelFunction),
    ],
  };
}

export const softirqBpf: TracerBpf = {
  object: "softirq",
  // the kprobe variant sees NET_RX only: net_rx_action is its handler's entry
  hooks: [hook("softirq_raise", "raise", "__raise_softirq_irqoff"), hook("softirq_entry", "entry", "net_rx_action")],
};

/** CPU ids in a cpulist such as `0-3,8`. */
export function parseCpuList(text: string): number[] {
  const ids: number[] = [];
  for (const part of text.trim().split(",").filter(Boolean)) {
    const [first, last = first] = part.split("-").map(Number) as [number, number?];
    for (let cpu = first; cpu <= last; cpu++) ids.push(cpu);
  }
  return ids;
}

const ZONE_HELP = "softirq raise-to-entry latency events by zone: 0 [0,10us) 1 [10,100us) 2 [100us,1ms) 3 [1ms,+inf)";
const SECONDS_HELP = "softirq latency: raised until its handler starts, NET_TX and NET_RX";

/** perCpu[type][cpu]: the map's per-CPU values; only online CPUs are reported, as HUATUO does. */
export function emitSoftirq(emit: Emitter, perCpu: SoftirqLat[][], online: number[]): void {
  perCpu.forEach((cpus, index) => {
    const type = TYPES[index]!;
    const total = emptyHist();
    for (const cpu of online) {
      const lat = cpus[cpu];
      if (!lat) continue;
      lat.zones.forEach((count, zone) => emit.counter("latency", ZONE_HELP, count, { cpuid: String(cpu), type, zone: String(zone) }));
      addHist(total, lat.hist);
    }
    emit.histogram("latency_seconds", SECONDS_HELP, toSecondsHistogram(total), { type });
  });
}

class SoftirqCollector implements MetricCollector {
  private readonly map: BpfMap;

  constructor(object: BpfObject) {
    this.map = object.map("softirq_lat");
  }

  async collect(emit: Emitter): Promise<void> {
    const online = await onlineCpus(this.map.ncpus);
    const dump = this.map.dump({ raw: true });
    const view = new DataView(dump.values.buffer, dump.values.byteOffset, dump.values.byteLength);
    // raw per-CPU layout: each CPU's copy padded to 8 bytes
    const stride = Math.ceil(softirqLatLayout.size / 8) * 8;
    const perCpu: SoftirqLat[][] = [];
    for (let i = 0; i < dump.count; i++) {
      const cpus: SoftirqLat[] = [];
      for (let cpu = 0; cpu < this.map.ncpus; cpu++) cpus.push(decodeSoftirqLat(view, i * dump.valueStride + cpu * stride));
      perCpu[dump.keys.readUInt32LE(i * dump.keySize)] = cpus;
    }
    emitSoftirq(emit, perCpu, online);
  }
}

/** Online CPU ids; all of the map's CPUs when sysfs cannot say. */
async function onlineCpus(ncpus: number): Promise<number[]> {
  try {
    return parseCpuList(await readTextAsync(sysPath("devices/system/cpu/online")));
  } catch {
    return Array.from({ length: ncpus }, (_, cpu) => cpu);
  }
}

export async function createSoftirq(options: LoadOptions = {}): Promise<Tracer> {
  const object = await loadMetricBpf(softirqBpf, options);
  return { hook: object.hook, collector: new SoftirqCollector(object), close: () => object.close() };
}

registerTracer({
  name: "softirq",
  kind: "metric",
  description: "NET_TX/NET_RX softirq latency (irq:softirq_raise to irq:softirq_entry) per CPU, aggregated in BPF",
  create: () => createSoftirq(),
});
