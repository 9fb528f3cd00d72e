// ras: hardware errors (MCE, EDAC, ACPI GHES, PCIe AER, MCE threshold, ARM) from whichever of their tracepoints
// this kernel has, decoded with the running kernel's record formats; `ras_hw_total{type}` counts every one.
import { decodeRasEvent, type RasEvent } from "../bpf/gen/ras";
import type { HookSpec } from "../bpf/hooks";
import { kernelFeatures, type LoadOptions, type TracerBpf } from "../bpf/loader";
import type { BpfObject } from "../bpf/object";
import { registerTracer } from "../framework/registry";
import type { Emitter, Tracer, TracerContext } from "../framework/types";
import { toJson } from "../storage/document";
import type { EventSink } from "../storage/sink";
import { wallClockNs } from "../storage/time";
import { eventChannel, loadEventObject, pumpEvents } from "./bpf_events";
import { decodeArm, decodeAer, decodeEdac, decodeMce, decodeNonStandard, decodeThreshold, type RasDecoded } from "./ras_decode";
import { RawRecord, readFormat, type TracepointFormat } from "./tp_format";

interface RasSource {
  /** The `type` label of ras_hw_total. */
  type: string;
  tracepoint: string;
  program: string;
  decode(record: RawRecord, cpu: number): RasDecoded;
}

/** Indexed by the RAS_* source numbers of bpf/include/ras.h. */
export const RAS_SOURCES: readonly RasSource[] = [
  { type: "mce", tracepoint: "mce/mce_record", program: "ras_mce_record", decode: decodeMce },
  { type: "edac", tracepoint: "ras/mc_event", program: "ras_mc_event", decode: decodeEdac },
  { type: "acpi", tracepoint: "ras/non_standard_event", program: "ras_non_standard_event", decode: decodeNonStandard },
  { type: "aer", tracepoint: "ras/aer_event", program: "ras_aer_event", decode: decodeAer },
  { type: "thr", tracepoint: "irq_vectors/threshold_apic_entry", program: "ras_threshold_apic_entry", decode: decodeThreshold },
  { type: "arm_ghes", tracepoint: "ras/arm_event", program: "ras_arm_event", decode: decodeArm },
];

/** Every source is optional: x86 has no arm_event, a host without PCIe AER support no aer_event. */
export const rasBpf: TracerBpf = {
  object: "ras",
  hooks: RAS_SOURCES.map(
    (s): HookSpec => ({
      name: s.tracepoint.slice(s.tracepoint.indexOf("/") + 1),
      candidates: [{ kind: "tracepoint", program: s.program, target: s.tracepoint }],
      optional: true,
    }),
  ),
  events: eventChannel("ras"),
};

/** CLOCK_MONOTONIC ns (bpf_ktime_get_ns) to wall-clock ns since the epoch. */
export function monotonicToWallNs(ktimeNs: number): bigint {
  return wallClockNs() - (process.hrtime.bigint() - BigInt(Math.round(ktimeNs)));
}

const HELP = "total RAS hardware error events by source type";

/** Decodes, counts and stores RAS events; the THR cooldown is EventTracing.Ras.MceThrBackoff seconds. */
export class RasHandler {
  private readonly counts = new Map(RAS_SOURCES.map((s) => [s.type, 0]));
  private lastThrSave = -Infinity;

  constructor(
    /** Formats by source number, for the sources attached. */
    private readonly formats: ReadonlyMap<number, TracepointFormat>,
    private readonly sink: EventSink,
    private readonly thrBackoffSeconds: () => number,
  ) {}

  handle(e: RasEvent, nowMs = Date.now()): void {
    const source = RAS_SOURCES[e.source];
    const format = this.formats.get(e.source);
    if (!source || !format) return;
    this.counts.set(source.type, this.counts.get(source.type)! + 1);
    if (source.type === "thr") {
      if (nowMs - this.lastThrSave < this.thrBackoffSeconds() * 1000) return;
      this.lastThrSave = nowMs;
    }
    const decoded = source.decode(new RawRecord(format, Uint8Array.from(e.record)), e.cpu);
    const data = {
      dev: decoded.dev,
      event: decoded.event,
      type: decoded.type,
      timestamp: monotonicToWallNs(e.ktime_ns),
      info: toJson(decoded.info),
    };
    this.sink.save({ tracerName: "ras", data });
  }

  /** All six types, zero or not, so alerting sees the series from the start. */
  collect(emit: Emitter): void {
    for (const [type, n] of this.counts) emit.counter("hw_total", HELP, n, { type });
  }
}

async function attachedFormats(object: BpfObject): Promise<Map<number, TracepointFormat>> {
  const tracefs = (await kernelFeatures()).tracefsPath;
  const formats = new Map<number, TracepointFormat>();
  RAS_SOURCES.forEach((s, i) => {
    const attached = object.hooks.some((h) => h.attached === `tracepoint:${s.tracepoint}`);
    if (attached && tracefs) formats.set(i, readFormat(tracefs, s.tracepoint));
  });
  return formats;
}

export async function createRas(ctx: TracerContext, options: LoadOptions = {}): Promise<Tracer> {
  const object = await loadEventObject(rasBpf, options);
  const log = ctx.log;
  try {
    const handler = new RasHandler(await attachedFormats(object), ctx.events, () => ctx.config.get().EventTracing.Ras.MceThrBackoff);
    return {
      hook: object.hook,
      collector: { collect: (emit) => handler.collect(emit) },
      run: (signal) => pumpEvents(object, decodeRasEvent, (e) => handler.handle(e), signal, log),
      close: () => object.close(),
    };
  } catch (err) {
    object.close();
    throw err;
  }
}

registerTracer({
  name: "ras",
  kind: "event",
  description: "hardware errors: MCE, EDAC, ACPI GHES, PCIe AER, MCE threshold (ras, mce, irq_vectors tracepoints)",
  restartInterval: 60,
  create: (ctx) => createRas(ctx),
});
