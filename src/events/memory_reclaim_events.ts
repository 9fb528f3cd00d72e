// memory_reclaim_events: container processes that spent more than EventTracing.MemoryReclaim.BlockedThreshold in
// direct reclaim within one second (global or memory-cgroup reclaim). Host processes are not reported, as in the
// original; the stored tracer_name is the user guide's `memory_reclaim_events` (the original stored `memory_reclaim`).
import { decodeMemoryReclaimEvent, type MemoryReclaimEvent } from "../bpf/gen/memory_reclaim_events";
import type { LoadOptions, TracerBpf } from "../bpf/loader";
import { registerTracer } from "../framework/registry";
import type { Tracer, TracerContext } from "../framework/types";
import type { EventSink } from "../storage/sink";
import { bindThreshold, eventChannel, loadEventObject, pumpEvents, tracepointHook } from "./bpf_events";
import { MemcgResolver } from "./memcg";

const NAME = "memory_reclaim_events";
/** bpf/include/memory_reclaim_events.h RECLAIM_* */
const SCOPES = ["global", "memcg"];

const vmscan = (program: string, event: string, fallback?: { kind: "kprobe" | "kretprobe"; program: string }) =>
  tracepointHook({
    prefix: "reclaim",
    program,
    tracepoint: `vmscan/${event}`,
    fallback: fallback && { ...fallback, target: "try_to_free_pages" },
    // memory-cgroup reclaim is an addition: a kernel without those tracepoints still reports global reclaim
    optional: !fallback,
  });

/** The threshold lives in the map reclaim_threshold: see bindThreshold. */
export const memoryReclaimBpf: TracerBpf = {
  object: NAME,
  hooks: [
    vmscan("direct_begin", "mm_vmscan_direct_reclaim_begin", { kind: "kprobe", program: "reclaim_kp_begin" }),
    vmscan("direct_end", "mm_vmscan_direct_reclaim_end", { kind: "kretprobe", program: "reclaim_kp_end" }),
    vmscan("memcg_begin", "mm_vmscan_memcg_reclaim_begin"),
    vmscan("memcg_end", "mm_vmscan_memcg_reclaim_end"),
  ],
  events: eventChannel("memory_reclaim"),
};

export class ReclaimHandler {
  constructor(
    private readonly memcg: MemcgResolver,
    private readonly sink: EventSink,
  ) {}

  handle(e: MemoryReclaimEvent): void {
    const path = this.memcg.pathOfId(e.memcg_id) ?? this.memcg.pathOfPid(e.pid);
    const container = this.memcg.containerOf(path);
    if (!container) return;
    const data = {
      pid: e.tgid,
      tid: e.pid,
      comm: e.comm,
      deltatime: e.deltatime_ns,
      reclaim_calls: e.calls,
      window_ns: e.window_ns,
      reclaim_scope: SCOPES[e.scope] ?? String(e.scope),
      memcg: path === undefined ? "" : `/${path}`,
    };
    this.sink.save({ tracerName: NAME, data, container });
  }
}

export async function createMemoryReclaim(ctx: TracerContext, options: LoadOptions = {}): Promise<Tracer> {
  const object = await loadEventObject(memoryReclaimBpf, options);
  const unbind = bindThreshold(object, "reclaim_threshold", ctx.config, (c) => c.EventTracing.MemoryReclaim.BlockedThreshold);
  const handler = new ReclaimHandler(new MemcgResolver(ctx.containers), ctx.events);
  return {
    hook: object.hook,
    run: (signal) => pumpEvents(object, decodeMemoryReclaimEvent, (e) => handler.handle(e), signal, ctx.log),
    close: () => {
      unbind();
      object.close();
    },
  };
}

registerTracer({
  name: NAME,
  kind: "event",
  description: "container processes blocked in direct reclaim past BlockedThreshold (vmscan direct and memcg reclaim)",
  restartInterval: 5,
  create: (ctx) => createMemoryReclaim(ctx),
});
