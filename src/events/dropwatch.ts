// dropwatch: packets the kernel drops (skb:kfree_skb) with the kernel's drop reason, drop type, 5-tuple, TCP state,
// device and kernel stack. Filtered and rate-limited in BPF; what the limit refuses is counted, never silent.
import { decodeDropwatchEvent as decode, dropwatchConfigLayout as settingsLayout, type DropwatchEvent } from "../bpf/gen/dropwatch";
import { KERNEL_BTF } from "../bpf/features";
import type { HookKind } from "../bpf/hooks";
import { kernelFeatures, type LoadOptions, type TracerBpf } from "../bpf/loader";
import type { BpfMap } from "../bpf/maps";
import { constant } from "../bpf/object";
import type { Config } from "../config/schema";
import { registerTracer } from "../framework/registry";
import type { Emitter, Tracer, TracerContext } from "../framework/types";
import { Kallsyms, kernelSymbols } from "../procfs/kallsyms";
import { DropReasons } from "./drop_reasons";
import { dropwatchData, noiseReason, stackFrames } from "./dropwatch_format";
import { containerByNetns, EventStream, loadEventObject } from "./net_common";

const NAME = "dropwatch";
/** Drops reported per second, all CPUs together (the original's MaxEventsPerSecond default); 0 = unlimited. */
export const MAX_EVENTS_PER_SECOND = 100;

const candidate = (kind: HookKind, program: string) => ({ kind, program, target: "skb/kfree_skb" });

export function dropwatchBpf(maxPerSecond = MAX_EVENTS_PER_SECOND): TracerBpf {
  return {
    object: NAME,
    hooks: [{ name: "kfree_skb", candidates: [candidate("tp_btf", "dropwatch_btf"), candidate("tracepoint", "dropwatch_tp")] }],
    constants: { max_per_second: constant.u64(maxPerSecond) },
    events: { ringbuf: "dropwatch_rb", perfbuf: "dropwatch_pb", perfFlag: "use_perf" },
  };
}

/** struct dropwatch_config: neigh_invalidate()'s address range, whose drops BPF skips while excluded. */
export function dropwatchSettings(neigh: { start: bigint; end: bigint } | undefined): Buffer {
  const out = Buffer.alloc(settingsLayout.size);
  out.writeBigUInt64LE(neigh?.start ?? 0n, settingsLayout.fields.neigh_start.offset);
  out.writeBigUInt64LE(neigh?.end ?? 0n, settingsLayout.fields.neigh_end.offset);
  return out;
}

/** Kernel symbols, or an empty table where /proc/kallsyms cannot be read (frames stay hex). */
async function loadSymbols(): Promise<Kallsyms> {
  return kernelSymbols().catch(() => Kallsyms.parse(""));
}

class Dropwatch {
  excluded = 0;

  constructor(
    private readonly ctx: TracerContext,
    private readonly reasons: DropReasons,
    private symbols: Kallsyms,
    private readonly limited: BpfMap,
  ) {}

  onEvent(e: DropwatchEvent): void {
    // refreshed on use rather than on a timer (an idle agent does not re-read kallsyms): kernelSymbols() hands out
    // its cached table and re-reads /proc/kallsyms once that is old, for the events after this one
    void loadSymbols().then((symbols) => (this.symbols = symbols));
    const frames = stackFrames(e, this.symbols);
    const exclude = this.ctx.config.get().EventTracing.Dropwatch.ExcludedNeighInvalidate;
    if (noiseReason(frames, this.symbols.format(e.location), exclude)) {
      this.excluded++;
      return;
    }
    const data = dropwatchData(e, { reasons: this.reasons, symbols: this.symbols, frames });
    this.ctx.events.save({ tracerName: NAME, data, container: containerByNetns(this.ctx.containers, e.netns_inum) });
  }

  /** Drops the rate limit refused, summed over CPUs. */
  rateLimited(): number {
    return Number(this.limited.lookup(new Uint8Array(4))?.readBigUInt64LE(0) ?? 0n);
  }
}

export async function createDropwatch(ctx: TracerContext, options: LoadOptions = {}): Promise<Tracer> {
  const features = options.features ?? (await kernelFeatures());
  const symbols = await loadSymbols();
  const reasons = await DropReasons.load(features.btfPath || KERNEL_BTF);
  const object = await loadEventObject(dropwatchBpf(), options);
  const neigh = symbols.range("neigh_invalidate");
  const settings = object.map("dropwatch_config");
  const apply = (config: Config) =>
    settings.update(new Uint8Array(4), dropwatchSettings(config.EventTracing.Dropwatch.ExcludedNeighInvalidate ? neigh : undefined));
  apply(ctx.config.get());
  const unsubscribe = ctx.config.onChange(apply);
  const channel = new EventStream(object, decode);
  const tracer = new Dropwatch(ctx, reasons, symbols, object.map("dropwatch_limited"));
  const onEvent = (e: DropwatchEvent) => tracer.onEvent(e);
  return {
    hook: object.hook,
    collector: { collect: (emit) => emitCounters(emit, tracer, channel.lost) },
    run: (signal) => channel.pump(onEvent, signal),
    close() {
      unsubscribe();
      object.close();
    },
  };
}

function emitCounters(emit: Emitter, tracer: Dropwatch, lost: number): void {
  emit.counter("ratelimited_total", `drops not reported: over the limit of ${MAX_EVENTS_PER_SECOND}/s`, tracer.rateLimited());
  emit.counter("lost_total", "drop records the kernel could not deliver (buffer full)", lost);
  emit.counter("excluded_total", "drops not reported: known noise (neigh_invalidate, bnxt transmit)", tracer.excluded);
}

registerTracer({
  name: NAME,
  kind: "event",
  description: "packet drops with reason, 5-tuple, TCP state, device and stack (skb:kfree_skb)",
  create: (ctx) => createDropwatch(ctx),
});
