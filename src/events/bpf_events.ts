// What the BPF-backed event tracers share: tracepoint-first hook candidates, the event channel of
// bpf/include/hb_events.h, loading (a kernel without the hooks is UnsupportedError) and the reading loop.
import type { HookCandidate, HookKind, HookSpec } from "../bpf/hooks";
import { isUnsupported, loadTracer, type EventChannel, type LoadOptions, type TracerBpf } from "../bpf/loader";
import type { BpfObject } from "../bpf/object";
import type { Config } from "../config/schema";
import type { ConfigStore } from "../config/store";
import type { Decoder } from "../bpf/ringbuf";
import { UnsupportedError } from "../framework/types";
import type { Logger } from "../log";

/** HB_EVENT_CHANNEL(name): `<name>_rb`, `<name>_pb` and the `use_perf` switch. */
export function eventChannel(name: string): EventChannel {
  return { ringbuf: `${name}_rb`, perfbuf: `${name}_pb`, perfFlag: "use_perf" };
}

export interface TracepointHookOptions {
  /** Program name prefix: `<prefix>_btf_<program>`, `<prefix>_raw_<program>`, `<prefix>_tp_<program>`. */
  prefix: string;
  program: string;
  /** `group/name` */
  tracepoint: string;
  /** Which tracepoint kinds the object implements, best first (default all three). */
  kinds?: Array<"tp_btf" | "raw_tp" | "tracepoint">;
  /** A kprobe or kretprobe for kernels without the tracepoint. */
  fallback?: { kind: HookKind; program: string; target: string };
  optional?: boolean;
}

const KIND_TAG = { tp_btf: "btf", raw_tp: "raw", tracepoint: "tp" } as const;

/** One hook whose candidates are the tracepoint as BTF, raw and classic tracepoint, then the fallback. */
export function tracepointHook(o: TracepointHookOptions): HookSpec {
  const kinds = o.kinds ?? ["tp_btf", "raw_tp", "tracepoint"];
  const candidates: HookCandidate[] = kinds.map((kind) => ({
    kind,
    program: `${o.prefix}_${KIND_TAG[kind]}_${o.program}`,
    target: o.tracepoint,
  }));
  if (o.fallback) candidates.push(o.fallback);
  return { name: o.tracepoint.slice(o.tracepoint.indexOf("/") + 1), candidates, optional: o.optional };
}

/** Loads and attaches; a kernel lacking every candidate of a required hook (or every hook) is unsupported. */
export async function loadEventObject(spec: TracerBpf, options: LoadOptions = {}): Promise<BpfObject> {
  let object: BpfObject;
  try {
    object = await loadTracer(spec, options);
  } catch (err) {
    if (isUnsupported(err)) throw new UnsupportedError((err as Error).message);
    throw err;
  }
  if (!object.hooks.some((h) => h.attached)) {
    object.close();
    const tried = spec.hooks.map((h) => h.name).join(", ");
    throw new UnsupportedError(`none of ${tried} exists on this kernel`);
  }
  return object;
}

/**
 * A threshold the programs read from a one-entry u64 array map (not a load-time constant, so a SIGHUP reload
 * applies without reloading the programs): written now and after every config change. Returns the unsubscribe.
 */
export function bindThreshold(object: BpfObject, map: string, config: ConfigStore, read: (c: Config) => number): () => void {
  const target = object.map(map);
  const key = Buffer.alloc(4);
  const write = (c: Config) => {
    const value = Buffer.alloc(8);
    value.writeBigUInt64LE(BigInt(read(c)));
    target.update(key, value);
  };
  write(config.get());
  return config.onChange((next) => write(next));
}

/** Losses are looked up at most this often, and only after records came: a ring fills only while records come. */
const LOST_CHECK_MS = 10_000;

/**
 * Reads the object's events until `signal` aborts; records the kernel could not queue (a full ring) are
 * logged with their count, never silently lost.
 */
export async function pumpEvents<T>(
  object: BpfObject,
  decode: Decoder<T>,
  onEvent: EventHandler<T>,
  signal: AbortSignal,
  log: Logger,
): Promise<void> {
  const reader = object.events();
  let reported = 0;
  let timer: Timer | undefined;
  const checkLost = () => {
    timer = undefined;
    const lost = reader.lost();
    if (lost > reported) log.warn("kernel events lost: the ring buffer was full", { lost: lost - reported, total: lost });
    reported = lost;
  };
  const onRecord = (event: T) => {
    timer ??= setTimeout(checkLost, LOST_CHECK_MS);
    handle(event, onEvent, log);
  };
  try {
    await reader.pump(decode, onRecord, signal);
  } finally {
    clearTimeout(timer);
    if (timer) checkLost();
    reader.close();
  }
}

/** A handler may finish asynchronously (reading /proc or cgroup files about the event). */
export type EventHandler<T> = (event: T) => void | Promise<void>;

/** One event that cannot be handled is logged and skipped; it never stops the tracer. */
function handle<T>(event: T, onEvent: EventHandler<T>, log: Logger): void {
  const failed = (err: unknown) => log.error("event dropped: handling failed", { err: (err as Error).message });
  try {
    const done = onEvent(event);
    if (done instanceof Promise) done.catch(failed);
  } catch (err) {
    failed(err);
  }
}
