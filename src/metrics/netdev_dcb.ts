// netdev_dcb: IEEE 802.1Qbb PFC (priority flow control) pause frames sent and received per priority, asked of
// the driver with an rtnetlink RTM_GETDCB DCB_CMD_IEEE_GET request for each [MetricCollector.NetdevDCB] device.
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector, TracerContext } from "../framework/types";
import {
  concatBytes,
  encodeAttr,
  encodeString,
  NetlinkError,
  parseAttrs,
  readU64,
  rtnetlinkRequest,
} from "../procfs/netlink";
import { listDir, sysPath } from "../procfs/root";
import { matchesDeviceList } from "./netdev_hw";

const RTM_GETDCB = 78;
const DCB_CMD_IEEE_GET = 21;
const DCB_ATTR_IFNAME = 1;
const DCB_ATTR_IEEE = 13;
const DCB_ATTR_IEEE_PFC = 2;
const DCBMSG_LEN = 4;
const PRIORITIES = 8;
/** struct ieee_pfc: u8 pfc_cap, pfc_en, mbc; u16 delay; then u64 requests[8] at 8 and indications[8] at 72. */
const PFC_REQUESTS_OFFSET = 8;
const PFC_INDICATIONS_OFFSET = 72;
const IEEE_PFC_LEN = 136;
/** No DCB support in the driver (EOPNOTSUPP) or the device vanished (ENODEV): nothing to report. */
const SKIPPED_ERRNOS = new Set([19, 95]);

export interface PfcCounters {
  /** PFC frames sent, per priority 0..7 (ieee_pfc.requests). */
  sent: number[];
  /** PFC frames received, per priority 0..7 (ieee_pfc.indications). */
  received: number[];
}

/** The RTM_GETDCB request payload: struct dcbmsg {family AF_UNSPEC, cmd, pad} and the device name. */
export function encodeIeeeGet(device: string): Uint8Array {
  const header = new Uint8Array(DCBMSG_LEN);
  header[1] = DCB_CMD_IEEE_GET;
  return concatBytes([header, encodeAttr(DCB_ATTR_IFNAME, encodeString(device))]);
}

/** PFC counters from a DCB_CMD_IEEE_GET reply payload; undefined when the driver reports no PFC. */
export function parseIeeeGetReply(payload: Uint8Array): PfcCounters | undefined {
  const ieee = parseAttrs(payload.subarray(DCBMSG_LEN)).get(DCB_ATTR_IEEE);
  const pfc = ieee ? parseAttrs(ieee).get(DCB_ATTR_IEEE_PFC) : undefined;
  if (!pfc || pfc.length < IEEE_PFC_LEN) return undefined;
  const column = (offset: number) => Array.from({ length: PRIORITIES }, (_, p) => readU64(pfc, offset + p * 8));
  return { sent: column(PFC_REQUESTS_OFFSET), received: column(PFC_INDICATIONS_OFFSET) };
}

function queryPfc(device: string): PfcCounters | undefined {
  try {
    return parseIeeeGetReply(rtnetlinkRequest(RTM_GETDCB, encodeIeeeGet(device)).payload);
  } catch (err) {
    if (err instanceof NetlinkError && SKIPPED_ERRNOS.has(err.errno)) return undefined;
    throw err;
  }
}

export function emitPfc(emit: Emitter, device: string, pfc: PfcCounters): void {
  for (let prio = 0; prio < PRIORITIES; prio++) {
    const labels = { device, prio: String(prio) };
    emit.counter("pfc_send_total", "PFC pause frames sent for this priority.", pfc.sent[prio] ?? 0, labels);
    emit.counter("pfc_received_total", "PFC pause frames received for this priority.", pfc.received[prio] ?? 0, labels);
  }
}

class NetdevDcbCollector implements MetricCollector {
  constructor(private readonly ctx: TracerContext) {}

  collect(emit: Emitter): void {
    const { DeviceList } = this.ctx.config.get().MetricCollector.NetdevDCB;
    for (const device of listDir(sysPath("class", "net")).filter((d) => matchesDeviceList(d, DeviceList)).sort()) {
      const pfc = queryPfc(device);
      if (pfc) emitPfc(emit, device, pfc);
    }
  }
}

registerTracer({
  name: "netdev_dcb",
  kind: "metric",
  description: "DCB PFC frame counters per priority of the configured network devices, via rtnetlink",
  create: (ctx) => ({ hook: "netlink", collector: new NetdevDcbCollector(ctx) }),
});
