// netdev_hw: packets a NIC dropped in hardware on receive, per device of [MetricCollector.NetdevHW] DeviceList,
// from the sysfs counters in /sys/class/net/<dev>/statistics (no kprobes needed).
import { readlink } from "node:fs/promises";
import { basename } from "node:path";
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector, TracerContext } from "../framework/types";
import { isNotFound, listDir, readTextAsync, sysPath } from "../procfs/root";

const listPatterns = new Map<string, RegExp>();

/** DeviceList semantics: each entry is a regex matched against the whole name; an empty list matches nothing. */
export function matchesDeviceList(device: string, list: readonly string[]): boolean {
  return list.some((entry) => {
    let re = listPatterns.get(entry);
    if (!re) {
      re = new RegExp(`^(?:${entry})$`);
      listPatterns.set(entry, re);
    }
    return re.test(device);
  });
}

/**
 * The hardware receive drops from a device's `rx_missed_errors` and `rx_dropped`. Many drivers report ring
 * overruns as missed errors (ixgbe's missed-packet count, mlx5's out-of-buffer count); others fold them into
 * rx_dropped. The original subtracts the core's software drops (netdev->rx_dropped, read through a kprobe) from
 * rx_dropped; sysfs only exposes the sum, so here rx_dropped also holds the stack's own drops.
 */
export function hardwareRxDropped(missedErrors: number, dropped: number): number {
  return missedErrors > 0 ? missedErrors : dropped;
}

async function readCounter(device: string, name: string): Promise<number> {
  const text = await readTextAsync(sysPath("class", "net", device, "statistics", name));
  const value = Number(text.trim());
  if (!Number.isFinite(value)) throw new Error(`${device}/statistics/${name}: not a number`);
  return value;
}

/** The driver bound to the device, or undefined for a virtual device (no `device` link: lo, veth, bridges). */
export async function readDriver(device: string): Promise<string | undefined> {
  try {
    return basename(await readlink(sysPath("class", "net", device, "device", "driver")));
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

interface HwDrops {
  device: string;
  driver: string;
  dropped: number;
}

async function readDevice(device: string): Promise<HwDrops | undefined> {
  const driver = await readDriver(device);
  if (driver === undefined) return undefined;
  const [missed, dropped] = await Promise.all([
    readCounter(device, "rx_missed_errors"),
    readCounter(device, "rx_dropped"),
  ]);
  return { device, driver, dropped: hardwareRxDropped(missed, dropped) };
}

class NetdevHwCollector implements MetricCollector {
  constructor(private readonly ctx: TracerContext) {}

  async collect(emit: Emitter): Promise<void> {
    const { DeviceList } = this.ctx.config.get().MetricCollector.NetdevHW;
    const devices = listDir(sysPath("class", "net")).filter((d) => matchesDeviceList(d, DeviceList));
    for (const hw of await Promise.all(devices.sort().map(readDevice))) {
      if (!hw) continue;
      const labels = { device: hw.device, driver: hw.driver };
      emit.gauge("rx_dropped", "count of packets dropped at hardware level", hw.dropped, labels);
    }
  }
}

registerTracer({
  name: "netdev_hw",
  kind: "metric",
  description: "hardware receive drops of the configured network devices, from sysfs",
  create: (ctx) => ({ hook: "sysfs", collector: new NetdevHwCollector(ctx) }),
});
