// netdev_bonding_lacp: an IEEE 802.3ad bond port stops collecting and distributing. bonding has no tracepoints, so
// the first candidate is rtnetlink (the port's 802.3ad state in IFLA_INFO_SLAVE_DATA), the second HUATUO's kprobe
// on ad_disable_collecting_distributing. Each event stores the /proc/net/bonding files, as the original does.
import { existsSync } from "node:fs";
import { decodeNetdevBondingLacpEvent as decode } from "../bpf/gen/netdev_bonding_lacp";
import type { TracerBpf } from "../bpf/loader";
import { registerTracer } from "../framework/registry";
import { UnsupportedError, type Tracer, type TracerContext } from "../framework/types";
import { listDir, procPath, readTextIfExists, sysPath } from "../procfs/root";
import { bondPort, isLacpBond, lacpDisabled, portData, type BondPort } from "./bond_lacp";
import { EventStream, loadEventObject } from "./net_common";
import { RTM_DELLINK, type LinkMessage } from "./rtnl_link";
import { dumpLinkMessages, LinkMonitor, type LinkBatch } from "./rtnl_monitor";

const NAME = "netdev_bonding_lacp";

export const lacpBpf: TracerBpf = {
  object: NAME,
  hooks: [
    {
      name: "ad_disable_collecting_distributing",
      candidates: [{ kind: "kprobe", program: "lacp_kp_disable", target: "ad_disable_collecting_distributing" }],
    },
  ],
  events: { ringbuf: "lacp_rb", perfbuf: "lacp_pb", perfFlag: "use_perf" },
};

/** Every /proc/net/bonding file as `<path>\n<content>`, concatenated. */
export async function bondingContent(): Promise<string> {
  const dir = procPath("net", "bonding");
  const parts: string[] = [];
  for (const name of listDir(dir).sort()) {
    const text = await readTextIfExists(`${dir}/${name}`);
    if (text !== undefined) parts.push(`${dir}/${name}\n${text}`);
  }
  return parts.join("\n");
}

export class BondingLacp {
  /** 802.3ad bonds by ifindex. */
  readonly bonds = new Map<number, string>();
  readonly ports = new Map<number, BondPort>();
  total = 0;

  constructor(private readonly ctx: TracerContext) {}

  /** Remembers bonds and ports; returns the ports that stopped forwarding since the last message. */
  update(links: LinkMessage[]): BondPort[] {
    const disabled: BondPort[] = [];
    for (const link of links) {
      if (isLacpBond(link)) this.bonds.set(link.index, link.name);
      const port = bondPort(link);
      if (!port || !this.bonds.has(port.master)) continue;
      const before = this.ports.get(port.index);
      this.ports.set(port.index, port);
      if (before && lacpDisabled(before, port)) disabled.push(port);
    }
    return disabled;
  }

  onBatch(batch: LinkBatch): void {
    for (const { link } of batch.notices.filter((n) => n.type === RTM_DELLINK)) {
      this.bonds.delete(link.index);
      this.ports.delete(link.index);
    }
    const links = batch.notices.filter((n) => n.type !== RTM_DELLINK).map((n) => n.link);
    const disabled = this.update(batch.overflow ? [...links, ...dumpLinkMessages()] : links);
    for (const port of disabled) void this.report(port);
  }

  /** One document; `port` is unknown when the kprobe fired (its record carries nothing). */
  async report(port?: BondPort): Promise<void> {
    this.total++;
    try {
      const data = { content: await bondingContent(), ...(port && portData(this.bonds.get(port.master) ?? "", port)) };
      this.ctx.events.save({ tracerName: NAME, data });
    } catch (err) {
      this.ctx.log.warn("bonding state not read", { err: (err as Error).message });
    }
  }
}

function noLacpBond(): UnsupportedError {
  if (!existsSync(sysPath("module", "bonding"))) return new UnsupportedError("no IEEE 802.3ad bond: the bonding driver is not loaded");
  return new UnsupportedError("no bond in IEEE 802.3ad mode on this host");
}

/** Fallback when no rtnetlink subscription can be opened: the kprobe, where the kernel has kprobes. */
async function kprobeTracer(tracer: BondingLacp, netlinkError: unknown): Promise<Tracer> {
  const object = await loadEventObject(lacpBpf).catch((err: Error) => {
    const why = `rtnetlink: ${(netlinkError as Error).message}; ${err.message}`;
    throw err instanceof UnsupportedError ? new UnsupportedError(why) : new Error(why);
  });
  const channel = new EventStream(object, decode);
  return {
    hook: object.hook,
    collector: { collect: (emit) => emit.counter("total", "802.3ad ports that stopped collecting and distributing", tracer.total) },
    run: (signal) => channel.pump(() => void tracer.report(), signal),
    close: () => object.close(),
  };
}

export async function createBondingLacp(ctx: TracerContext): Promise<Tracer> {
  const tracer = new BondingLacp(ctx);
  let monitor: LinkMonitor;
  try {
    monitor = LinkMonitor.open();
  } catch (err) {
    if (!dumpLinkMessages().some(isLacpBond)) throw noLacpBond();
    return kprobeTracer(tracer, err);
  }
  try {
    tracer.update(dumpLinkMessages());
    if (!tracer.bonds.size) throw noLacpBond();
  } catch (err) {
    monitor.close();
    throw err;
  }
  return {
    hook: "netlink:rtnetlink/RTMGRP_LINK",
    collector: { collect: (emit) => emit.counter("total", "802.3ad ports that stopped collecting and distributing", tracer.total) },
    run: (signal) => monitor.watch((batch) => tracer.onBatch(batch), signal),
    close: () => monitor.close(),
  };
}

registerTracer({
  name: NAME,
  kind: "event",
  description: "IEEE 802.3ad bond ports that stop collecting and distributing (rtnetlink, else kprobe)",
  restartInterval: 60,
  create: (ctx) => createBondingLacp(ctx),
});
