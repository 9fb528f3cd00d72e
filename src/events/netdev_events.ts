// netdev_events: link state of the devices in EventTracing.Netdev.DeviceList from rtnetlink notifications: a baseline
// document per device at start, then one per admin or carrier transition, with transition counters per device.
import { registerTracer } from "../framework/registry";
import type { Emitter, Tracer, TracerContext } from "../framework/types";
import { driverInfo, type DriverInfo } from "./net_libc";
import { linkState, linkTransitions, RTM_DELLINK, type LinkMessage } from "./rtnl_link";
import { dumpLinkMessages, LinkMonitor, type LinkBatch } from "./rtnl_monitor";

const NAME = "netdev_events";
const STATUSES = ["adminup", "admindown", "carrierup", "carrierdown"] as const;

interface Device {
  link: LinkMessage;
  driver: DriverInfo;
  /** Transitions seen, by linkstatus value. */
  counts: Map<string, number>;
}

/** Entries are full-match patterns (`^(?:entry)$`), as the config checks them. */
export function deviceMatcher(list: readonly string[]): (name: string) => boolean {
  const patterns = list.map((entry) => new RegExp(`^(?:${entry})$`));
  return (name) => patterns.some((p) => p.test(name));
}

/** ethtool's driver information, else the link kind (veth, bond) for virtual devices that have none. */
function driverOf(link: LinkMessage): DriverInfo {
  return driverInfo(link.name) ?? { driver: link.kind, version: "", firmware: "" };
}

export class NetdevEvents {
  readonly devices = new Map<number, Device>();

  constructor(private readonly ctx: TracerContext) {}

  private watched(name: string): boolean {
    return deviceMatcher(this.ctx.config.get().EventTracing.Netdev.DeviceList)(name);
  }

  /** The state at start: one `start: true` document per watched device. */
  baseline(links: LinkMessage[]): void {
    for (const link of links) {
      if (!this.watched(link.name)) continue;
      const device = this.adopt(link);
      this.save(device, linkState(link.flags), true);
    }
  }

  onBatch(batch: LinkBatch): void {
    for (const { type, link } of batch.notices) {
      if (type === RTM_DELLINK) this.devices.delete(link.index);
      else this.update(link);
    }
    if (batch.overflow) this.resync(dumpLinkMessages());
  }

  /** After lost notifications: compare with a fresh dump, forget vanished devices. */
  resync(links: LinkMessage[]): void {
    const present = new Set(links.map((l) => l.index));
    for (const index of this.devices.keys()) if (!present.has(index)) this.devices.delete(index);
    for (const link of links) this.update(link);
  }

  /** A device that appears later, or is renamed into the list, is adopted with its state as baseline. */
  private update(link: LinkMessage): void {
    const device = this.devices.get(link.index);
    if (!device) {
      if (this.watched(link.name)) this.adopt(link);
      return;
    }
    const transitions = linkTransitions(device.link.flags, link.flags);
    device.link = link;
    if (!transitions.length) return;
    for (const status of transitions) device.counts.set(status, (device.counts.get(status) ?? 0) + 1);
    this.save(device, transitions, false);
  }

  private adopt(link: LinkMessage): Device {
    const device = { link, driver: driverOf(link), counts: new Map<string, number>() };
    this.devices.set(link.index, device);
    return device;
  }

  private save(device: Device, statuses: string[], start: boolean): void {
    const { link, driver } = device;
    const data = {
      ifname: link.name,
      index: link.index,
      linkstatus: statuses.join(", "),
      mac: link.mac,
      start,
      driver: driver.driver,
      driver_version: driver.version,
      firmware_version: driver.firmware,
      operstate: link.operstate,
      mtu: link.mtu,
    };
    this.ctx.events.save({ tracerName: NAME, data });
  }

  emit(emit: Emitter): void {
    for (const { link, driver, counts } of this.devices.values()) {
      const labels = { device: link.name, driver: driver.driver, driver_version: driver.version, firmware_version: driver.firmware };
      for (const status of STATUSES) {
        const value = counts.get(`linkstatus_${status}`) ?? 0;
        emit.counter(`linkstatus_${status}_total`, `link ${status} transitions seen through rtnetlink`, value, labels);
      }
    }
  }
}

export function createNetdevEvents(ctx: TracerContext): Tracer {
  const monitor = LinkMonitor.open();
  const tracer = new NetdevEvents(ctx);
  try {
    tracer.baseline(dumpLinkMessages());
  } catch (err) {
    monitor.close();
    throw err;
  }
  return {
    hook: "netlink:rtnetlink/RTMGRP_LINK",
    collector: { collect: (emit) => tracer.emit(emit) },
    run: (signal) => monitor.watch((batch) => tracer.onBatch(batch), signal),
    close: () => monitor.close(),
  };
}

registerTracer({
  name: NAME,
  kind: "event",
  description: "admin and carrier transitions of EventTracing.Netdev.DeviceList devices (rtnetlink RTMGRP_LINK)",
  create: (ctx) => createNetdevEvents(ctx),
});
