// What the network event tracers share: loading a BPF object (a host without the hooks is "unsupported"), reading
// its events with lost-record accounting, and attributing an event to a container by its network namespace.
import { readlink } from "node:fs/promises";
import { isUnsupported, loadTracer, type LoadOptions, type TracerBpf } from "../bpf/loader";
import type { BpfObject } from "../bpf/object";
import type { Decoder, EventReader } from "../bpf/ringbuf";
import { UnsupportedError } from "../framework/types";
import type { Container, ContainerSource } from "../pod/types";
import { procPath } from "../procfs/root";

/** Loads and attaches; a kernel without BTF or without any candidate of a required hook throws UnsupportedError. */
export async function loadEventObject(spec: TracerBpf, options: LoadOptions = {}): Promise<BpfObject> {
  try {
    return await loadTracer(spec, options);
  } catch (err) {
    if (isUnsupported(err)) throw new UnsupportedError((err as Error).message);
    throw err;
  }
}

/**
 * The hook string of an object, naming optional hooks that could not attach, e.g.
 * `tp_btf:net/netif_receive_skb; unsupported tcp_v4_rcv (kprobes unavailable: ...)`.
 */
export function describeHooks(object: BpfObject): string {
  const missing = object.hooks.filter((h) => !h.attached);
  const reasons = missing.map((h) => `unsupported ${h.hook} (${h.attempts.at(-1)?.reason ?? "no candidate"})`);
  return [object.hook, ...reasons].filter(Boolean).join("; ");
}

/** A tracer's event reader, opened once so its lost-record count spans restarts of the run loop. */
export class EventStream<T> {
  private readonly reader: EventReader;

  constructor(
    object: BpfObject,
    private readonly decode: Decoder<T>,
  ) {
    this.reader = object.events();
  }

  /** Records the kernel could not deliver (ring or perf buffer full) since the tracer was created. */
  get lost(): number {
    return this.reader.lost();
  }

  /** Reads events until `signal` aborts, without blocking the event loop. */
  pump(onEvent: (event: T) => void, signal: AbortSignal): Promise<void> {
    return this.reader.pump(this.decode, onEvent, signal);
  }
}

/** The inode of a process's network namespace (`net:[4026531840]`), 0 when it cannot be read. */
export async function netnsInode(pid: number | "self"): Promise<number> {
  try {
    const link = await readlink(procPath(String(pid), "ns", "net"));
    return Number(/^net:\[(\d+)\]$/.exec(link)?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/**
 * The container living in network namespace `inum`. Containers of a pod share one namespace: the pod's main
 * (normal) container is preferred over its sidecars, as the original attributes events to normal containers.
 */
export function containerByNetns(source: ContainerSource, inum: number): Container | undefined {
  if (!inum) return undefined;
  const matches = source.list().filter((c) => c.netnsInode === inum);
  return matches.find((c) => c.type === "normal") ?? matches[0];
}
