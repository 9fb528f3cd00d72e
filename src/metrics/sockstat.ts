// sockstat: IPv4 socket counts of a network namespace from /proc/<pid>/net/sockstat (pid 1 = the host, a Normal
// container's init pid for its own), as `sockets_used` and `<PROTO>_<state>` gauges, plus `<PROTO>_mem_bytes` for the host.
import { DataType, load, open } from "ffi-rs";
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector, TracerContext } from "../framework/types";
import { procPath, readTextSync } from "../procfs/root";
import { normalContainers, readEachNetns } from "./containers";

export interface Sockstat {
  /** `sockets: used N`, absent when the line is missing. */
  socketsUsed?: number;
  /** Per protocol (`TCP`, `UDP`, `UDPLITE`, `RAW`, `FRAG`), its `key value` pairs in file order. */
  protocols: Map<string, Map<string, number>>;
}

/** Parses lines such as `TCP: inuse 412 orphan 3 tw 1290 alloc 455 mem 2217`. */
export function parseSockstat(text: string): Sockstat {
  const result: Sockstat = { protocols: new Map() };
  for (const line of text.split("\n")) {
    const [label = "", ...rest] = line.trim().split(/\s+/);
    if (!label.endsWith(":") || rest.length % 2 !== 0) continue;
    const pairs = new Map<string, number>();
    for (let i = 0; i < rest.length; i += 2) {
      const value = Number(rest[i + 1]);
      if (!Number.isFinite(value)) throw new Error(`sockstat: malformed line ${JSON.stringify(line.trim())}`);
      pairs.set(rest[i] ?? "", value);
    }
    const proto = label.slice(0, -1);
    if (proto === "sockets") result.socketsUsed = pairs.get("used");
    else result.protocols.set(proto, pairs);
  }
  return result;
}

export async function readSockstat(pid: number): Promise<Sockstat> {
  return parseSockstat(readTextSync(procPath(String(pid), "net", "sockstat")));
}

let cachedPageSize: number | undefined;

/** The kernel page size: sockstat `mem` and tcp_mem count pages, which are 16K or 64K on some arm64 kernels. */
export function pageSize(): number {
  if (cachedPageSize === undefined) {
    open({ library: "libc-sysconf", path: "libc.so.6" });
    const _SC_PAGESIZE = 30;
    cachedPageSize = load({
      library: "libc-sysconf",
      funcName: "sysconf",
      retType: DataType.I64,
      paramsType: [DataType.I32],
      paramsValue: [_SC_PAGESIZE],
    }) as number;
  }
  return cachedPageSize;
}

/**
 * Emits the counts. Memory in pages (`mem`) is global, not per namespace, so `withMemory` is false for
 * containers, as in the original; `FRAG memory` is in bytes and per namespace, so it always stays.
 */
export function emitSockstat(emit: Emitter, stat: Sockstat, withMemory: boolean): void {
  if (stat.socketsUsed !== undefined) {
    emit.gauge("sockets_used", "Number of IPv4 sockets in use.", stat.socketsUsed);
  }
  for (const [proto, pairs] of stat.protocols) {
    for (const [state, value] of pairs) {
      if (state === "mem" && !withMemory) continue;
      emit.gauge(`${proto}_${state}`, `Number of ${proto} sockets in state ${state}.`, value);
    }
    const pages = pairs.get("mem");
    if (withMemory && pages !== undefined) {
      emit.gauge(`${proto}_mem_bytes`, `Memory used by ${proto} sockets, in bytes.`, pages * pageSize());
    }
  }
}

class SockstatCollector implements MetricCollector {
  constructor(private readonly ctx: TracerContext) {}

  async collect(emit: Emitter): Promise<void> {
    emitSockstat(emit, await readSockstat(1), true);
    for (const [c, stat] of await readEachNetns(normalContainers(this.ctx), readSockstat)) {
      emitSockstat(emit.forContainer(c), stat, false);
    }
  }
}

registerTracer({
  name: "sockstat",
  kind: "metric",
  description: "IPv4 socket counts from /proc/1/net/sockstat",
  create: (ctx) => ({ hook: "procfs", collector: new SockstatCollector(ctx) }),
});
