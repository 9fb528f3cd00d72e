// netdev: per-device receive/transmit counters from /proc/<pid>/net/dev (pid 1 = the host network namespace),
// or from an rtnetlink link dump (IFLA_STATS64) of the agent's own namespace when NetdevStats.EnableNetlink is set.
// Normal containers: /proc/<initPid>/net/dev of their own namespace, in proc-mode names even with EnableNetlink
// (netlink would need a setns into each namespace).
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector, TracerContext } from "../framework/types";
import { dumpLinks, type LinkStats64 } from "../procfs/netlink";
import { procPath, readTextSync } from "../procfs/root";
import { normalContainers, readEachNetns } from "./containers";
import { passesFilter } from "./filter";

/** One device's counters, keyed by metric stem (`receive_bytes`, ...). */
export interface DeviceCounters {
  device: string;
  counters: Map<string, number>;
}

/** The 16 columns of /proc/net/dev, in order (unchanged since Linux 2.2). */
const PROC_COLUMNS = [
  "receive_bytes", "receive_packets", "receive_errors", "receive_dropped",
  "receive_fifo", "receive_frame", "receive_compressed", "receive_multicast",
  "transmit_bytes", "transmit_packets", "transmit_errors", "transmit_dropped",
  "transmit_fifo", "transmit_colls", "transmit_carrier", "transmit_compressed",
];

/** Netlink metric stems per rtnl_link_stats64 field, as the original names them in netlink mode. */
const NETLINK_STEMS: Array<[keyof LinkStats64, string]> = [
  ["rx_packets", "receive_packets"], ["rx_bytes", "receive_bytes"], ["rx_errors", "receive_errors"],
  ["rx_dropped", "receive_dropped"], ["rx_length_errors", "receive_length_errors"],
  ["rx_over_errors", "receive_over_errors"], ["rx_crc_errors", "receive_crc_errors"],
  ["rx_frame_errors", "receive_frame_errors"], ["rx_fifo_errors", "receive_fifo_errors"],
  ["rx_missed_errors", "receive_missed_errors"], ["rx_compressed", "receive_compressed"],
  ["rx_nohandler", "receive_nohandler"],
  ["tx_packets", "transmit_packets"], ["tx_bytes", "transmit_bytes"], ["tx_errors", "transmit_errors"],
  ["tx_dropped", "transmit_dropped"], ["tx_aborted_errors", "transmit_aborted_errors"],
  ["tx_carrier_errors", "transmit_carrier_errors"], ["tx_fifo_errors", "transmit_fifo_errors"],
  ["tx_heartbeat_errors", "transmit_heartbeat_errors"], ["tx_window_errors", "transmit_window_errors"],
  ["tx_compressed", "transmit_compressed"],
  ["multicast", "multicast"], ["collisions", "collisions"],
];

/**
 * Parses /proc/<pid>/net/dev. The name is split at the colon, not at whitespace: the kernel prints
 * `%6s:%8llu`, so a long name or a wide first counter leaves no space after the colon (`docker0:29384711`).
 */
export function parseNetDev(text: string): DeviceCounters[] {
  const devices: DeviceCounters[] = [];
  for (const line of text.split("\n").slice(2)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const device = line.slice(0, colon).trim();
    const values = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (values.length !== PROC_COLUMNS.length || values.some((v) => !Number.isFinite(v))) {
      throw new Error(`net/dev: malformed line for ${JSON.stringify(device)}`);
    }
    devices.push({ device, counters: new Map(PROC_COLUMNS.map((stem, i) => [stem, values[i] ?? 0])) });
  }
  return devices;
}

/** Counters of one link from its IFLA_STATS64, under the netlink-mode names. */
export function netlinkCounters(device: string, stats: LinkStats64): DeviceCounters {
  const counters = new Map<string, number>();
  for (const [field, stem] of NETLINK_STEMS) {
    const value = stats[field];
    if (value !== undefined) counters.set(stem, value);
  }
  return { device, counters };
}

/** The network devices of process `pid`'s namespace; a container's is `/proc/<initPid>/net/dev`. */
export async function readNetDev(pid: number): Promise<DeviceCounters[]> {
  return parseNetDev(readTextSync(procPath(String(pid), "net", "dev")));
}

/** A namespace's series after the device filter: built once, shared by every container of the pod. */
type Series = Array<[name: string, help: string, value: number, labels: { device: string }]>;

function deviceSeries(devices: DeviceCounters[], included: string, excluded: string): Series {
  const series: Series = [];
  for (const { device, counters } of devices) {
    if (!passesFilter(device, included, excluded)) continue;
    const labels = { device };
    for (const [stem, value] of counters) series.push([`${stem}_total`, `Network device statistic ${stem}.`, value, labels]);
  }
  return series;
}

function emitDevices(emit: Emitter, series: Series): void {
  for (const [name, help, value, labels] of series) emit.counter(name, help, value, labels);
}

class NetdevCollector implements MetricCollector {
  constructor(private readonly ctx: TracerContext) {}

  async collect(emit: Emitter): Promise<void> {
    const { EnableNetlink, DeviceIncluded, DeviceExcluded } = this.ctx.config.get().MetricCollector.NetdevStats;
    // Netlink answers for the agent's own namespace only, which the original also requires (host mode).
    const devices = EnableNetlink
      ? dumpLinks().flatMap((link) => (link.stats ? [netlinkCounters(link.name, link.stats)] : []))
      : await readNetDev(1);
    emitDevices(emit, deviceSeries(devices, DeviceIncluded, DeviceExcluded));
    const read = async (pid: number) => deviceSeries(await readNetDev(pid), DeviceIncluded, DeviceExcluded);
    for (const [c, series] of await readEachNetns(normalContainers(this.ctx), read)) emitDevices(emit.forContainer(c), series);
  }
}

registerTracer({
  name: "netdev",
  kind: "metric",
  description: "network device receive/transmit counters from /proc/1/net/dev or rtnetlink",
  create: (ctx) => ({
    hook: ctx.config.get().MetricCollector.NetdevStats.EnableNetlink ? "netlink" : "procfs",
    collector: new NetdevCollector(ctx),
  }),
});
