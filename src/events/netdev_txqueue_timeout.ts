// netdev_txqueue_timeout: the transmit watchdog found a queue stopped too long (net:net_dev_xmit_timeout), which
// points at the NIC or its driver. One document per timeout: queue, device and driver.
import {
  decodeNetdevTxqueueTimeoutEvent as decode,
  type NetdevTxqueueTimeoutEvent,
} from "../bpf/gen/netdev_txqueue_timeout";
import type { HookKind, HookSpec } from "../bpf/hooks";
import type { LoadOptions, TracerBpf } from "../bpf/loader";
import { registerTracer } from "../framework/registry";
import type { Emitter, Tracer, TracerContext } from "../framework/types";
import { containerByNetns, EventStream, loadEventObject } from "./net_common";
import { linkStatusOf } from "./net_format";

const NAME = "netdev_txqueue_timeout";

const candidate = (kind: HookKind, program: string) => ({ kind, program, target: "net/net_dev_xmit_timeout" });
const hook: HookSpec = {
  name: "net_dev_xmit_timeout",
  candidates: [candidate("tp_btf", "txqto_btf"), candidate("tracepoint", "txqto_tp")],
};

export const txqueueTimeoutBpf: TracerBpf = {
  object: NAME,
  hooks: [hook],
  events: { ringbuf: "txqto_rb", perfbuf: "txqto_pb", perfFlag: "use_perf" },
};

/** tracer_data: the seed's queue_index, device_name, driver_name; the rest only when the hook saw the device. */
export function txqueueTimeoutData(e: NetdevTxqueueTimeoutEvent): Record<string, unknown> {
  const data: Record<string, unknown> = { queue_index: e.queue_index, device_name: e.name, driver_name: e.driver };
  if (e.ifindex) {
    Object.assign(data, {
      netdev_ifindex: e.ifindex,
      netdev_linkstatus: linkStatusOf(e.link_status),
      net_namespace_inum: e.netns_inum,
      net_cookie: e.netns_cookie,
    });
  }
  return data;
}

export async function createTxqueueTimeout(ctx: TracerContext, options: LoadOptions = {}): Promise<Tracer> {
  const object = await loadEventObject(txqueueTimeoutBpf, options);
  const channel = new EventStream(object, decode);
  const onEvent = (e: NetdevTxqueueTimeoutEvent) => {
    ctx.events.save({ tracerName: NAME, data: txqueueTimeoutData(e), container: containerByNetns(ctx.containers, e.netns_inum) });
  };
  return {
    hook: object.hook,
    collector: {
      collect: (emit: Emitter) => emit.counter("lost_total", "timeout events the kernel could not deliver (buffer full)", channel.lost),
    },
    run: (signal) => channel.pump(onEvent, signal),
    close: () => object.close(),
  };
}

registerTracer({
  name: NAME,
  kind: "event",
  description: "transmit queue timeouts (net:net_dev_xmit_timeout)",
  create: (ctx) => createTxqueueTimeout(ctx),
});
