// softirq_tracing: softirqs held off longer than EventTracing.Softirq.DisabledThreshold, measured from
// irq:softirq_raise to irq:softirq_entry per CPU, with the task and kernel stack that let them run at last.
import { decodeSoftirqCpuState, decodeSoftirqTracingEvent, softirqTracingEventLayout, type SoftirqTracingEvent } from "../bpf/gen/softirq_tracing";
import type { LoadOptions, TracerBpf } from "../bpf/loader";
import type { BpfMap } from "../bpf/maps";
import { constant } from "../bpf/object";
import { registerTracer } from "../framework/registry";
import type { Emitter, Tracer, TracerContext } from "../framework/types";
import { kernelSymbols, type Kallsyms } from "../procfs/kallsyms";
import type { EventSink } from "../storage/sink";
import { bindThreshold, eventChannel, loadEventObject, pumpEvents, tracepointHook } from "./bpf_events";
import { MemcgResolver } from "./memcg";

/** include/linux/interrupt.h, the names the irq:softirq_* tracepoints print. */
const VECTORS = ["HI", "TIMER", "NET_TX", "NET_RX", "BLOCK", "IRQ_POLL", "TASKLET", "SCHED", "HRTIMER", "RCU"];
/** Per CPU and second at most this many events leave the kernel; bpf/softirq_tracing.bpf.c counts the rest. */
const MAX_PER_SEC = 16;

const hook = (program: string) => tracepointHook({ prefix: "softirq", program, tracepoint: `irq/softirq_${program}` });

/** The threshold lives in the map softirq_threshold: see bindThreshold. */
export const softirqBpf: TracerBpf = {
  object: "softirq_tracing",
  hooks: [hook("raise"), hook("entry")],
  constants: { max_per_sec: constant.u32(MAX_PER_SEC) },
  // a second of every CPU's budget, each record with its 8-byte ring header
  events: { ...eventChannel("softirq_tracing"), ringBytesPerCpu: MAX_PER_SEC * (softirqTracingEventLayout.size + 8) },
};

/**
 * What bpf_get_stack records first: the BPF program (module `bpf`, or not yet in a cached kallsyms) and the
 * tracepoint's calls into it (bpf_trace_runN and __traceiter_* for BTF and raw tracepoints, perf_trace_* for classic).
 */
const TRACING_FRAME = /^(bpf_prog_|bpf_trace_run\d|__bpf_trace_|__traceiter_|perf_trace_|trace_call_bpf|perf_tp_event)/;

function isTracingFrame(symbols: Kallsyms, address: bigint): boolean {
  const sym = symbols.lookup(address);
  return !sym || sym.module === "bpf" || TRACING_FRAME.test(sym.name);
}

/** The stack's frames from the softirq machinery outwards, in the kernel's %pS form, one per line. */
export function formatStack(e: SoftirqTracingEvent, symbols: Kallsyms): string {
  const frames = e.stack_bytes > 0 ? e.stack.slice(0, e.stack_bytes / 8) : [];
  let start = 0;
  while (start < frames.length && isTracingFrame(symbols, frames[start]!)) start++;
  return frames.slice(start).map((address) => symbols.format(address)).join("\n");
}

/** Stores each event, attributed to the container of the task that held softirqs off. */
export class SoftirqHandler {
  constructor(
    private readonly memcg: MemcgResolver,
    private readonly sink: EventSink,
    private readonly symbols: () => Promise<Kallsyms> = () => kernelSymbols(),
  ) {}

  async handle(e: SoftirqTracingEvent): Promise<void> {
    const data = {
      offtime: e.offtime_ns,
      threshold: e.threshold_ns,
      comm: e.comm,
      pid: e.pid,
      tgid: e.tgid,
      cpu: e.cpu,
      now: e.now_ns,
      softirq: VECTORS[e.vec] ?? String(e.vec),
      stack: formatStack(e, await this.symbols()),
    };
    const container = this.memcg.containerOf(this.memcg.pathOfId(e.memcg_id));
    this.sink.save({ tracerName: "softirq_tracing", data, container });
  }
}

const RATE_HELP = "softirq_tracing events over the threshold not reported: beyond the per-CPU rate limit";

/** The suppressed counters of every CPU, summed by the dump. */
function suppressed(state: BpfMap): number {
  const dump = state.dump();
  if (dump.count !== 1) return 0;
  return decodeSoftirqCpuState(new DataView(dump.values.buffer, dump.values.byteOffset, dump.valueStride), 0).suppressed;
}

export async function createSoftirqTracing(ctx: TracerContext, options: LoadOptions = {}): Promise<Tracer> {
  const object = await loadEventObject(softirqBpf, options);
  const unbind = bindThreshold(object, "softirq_threshold", ctx.config, (c) => c.EventTracing.Softirq.DisabledThreshold);
  const handler = new SoftirqHandler(new MemcgResolver(ctx.containers), ctx.events);
  const state = object.map("softirq_state");
  return {
    hook: object.hook,
    collector: { collect: (emit: Emitter) => emit.counter("ratelimited_total", RATE_HELP, suppressed(state)) },
    run: (signal) => pumpEvents(object, decodeSoftirqTracingEvent, (e) => handler.handle(e), signal, ctx.log),
    close: () => {
      unbind();
      object.close();
    },
  };
}

registerTracer({
  name: "softirq_tracing",
  kind: "event",
  description: "softirqs held off past DisabledThreshold (irq:softirq_raise → softirq_entry) with the kernel stack",
  restartInterval: 10,
  create: (ctx) => createSoftirqTracing(ctx),
});
