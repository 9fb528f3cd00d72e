// Link events from the built binary: netdev_events on a uniquely named host veth pair (baseline at start, admin and
// carrier transitions in local storage, the watch stream and the per-device counters), and how the bonding and
// transmit-timeout tracers report themselves on this host.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import {
  metric,
  NetFixture,
  sh,
  startNetDaemon,
  storedDocs,
  tracerStatus,
  until,
  watchEvents,
  type NetDaemon,
  type Watch,
} from "./support/events_net_support";

const net = new NetFixture();
const A = net.hostLink(`hbnl${net.tag}a`);
const B = `hbnl${net.tag}b`;
let d: NetDaemon;
let watch: Watch;

beforeAll(async () => {
  sh("ip", "link", "add", A, "type", "veth", "peer", "name", B);
  d = await startNetDaemon(`[EventTracing.Netdev]\nDeviceList = ["hbnl${net.tag}[ab]"]\n`);
  watch = watchEvents(d.daemon, "^netdev_events$");
});

afterAll(async () => {
  watch?.stop();
  await d?.daemon.stop();
  net.cleanup();
});

const linkDocs = (device: string) => storedDocs(d.store, "netdev_events").map((x) => x.tracer_data).filter((x) => x.ifname === device);

/**
 * Waits for the device's n-th document and returns its linkstatus and start flag. Transitions must also be in the
 * watch stream; baselines are saved before a client can connect.
 */
async function nth(device: string, n: number): Promise<[unknown, unknown]> {
  const doc = await until(() => linkDocs(device)[n], 10_000, `document ${n} of ${device}`);
  const streamed = () => watch.events().filter((e) => e.tracer_data.ifname === device && e.tracer_data.start === false);
  if (n > 0) await until(() => streamed().length >= n, 5000, `watched ${n} of ${device}`);
  return [doc.linkstatus, doc.start];
}

describe("netdev_events", () => {
  test("a baseline document per listed device at start, with its driver", async () => {
    expect((await tracerStatus(d.daemon, "netdev_events")).hook).toBe("netlink:rtnetlink/RTMGRP_LINK");
    expect(await nth(A, 0)).toEqual(["linkstatus_admindown, linkstatus_carrierdown", true]);
    expect(await nth(B, 0)).toEqual(["linkstatus_admindown, linkstatus_carrierdown", true]);
    expect(linkDocs(A)[0]).toMatchObject({ driver: "veth", driver_version: "1.0", start: true });
    expect(linkDocs(A)[0]!.mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  }, 30_000);

  test("set up, then down: admin and carrier transitions, each saved and counted", async () => {
    sh("ip", "link", "set", A, "up");
    expect(await nth(A, 1)).toEqual(["linkstatus_adminup", false]);
    sh("ip", "link", "set", B, "up");
    expect(await nth(B, 1)).toEqual(["linkstatus_adminup, linkstatus_carrierup", false]);
    expect(await nth(A, 2)).toEqual(["linkstatus_carrierup", false]);
    sh("ip", "link", "set", A, "down");
    expect(await nth(A, 3)).toEqual(["linkstatus_admindown, linkstatus_carrierdown", false]);
    expect(await nth(B, 2)).toEqual(["linkstatus_carrierdown", false]);

    const count = (status: string, device: string) =>
      metric(d.daemon, `huatuo_bamai_netdev_events_linkstatus_${status}_total`, { device, driver: "veth", driver_version: "1.0" });
    expect([await count("adminup", A), await count("admindown", A), await count("carrierup", A), await count("carrierdown", A)]).toEqual([1, 1, 1, 1]);
    expect([await count("adminup", B), await count("admindown", B), await count("carrierup", B), await count("carrierdown", B)]).toEqual([1, 0, 1, 1]);
    expect((await tracerStatus(d.daemon, "netdev_events")).events).toBe(7);
  }, 60_000);
});

describe("the other link tracers on this host", () => {
  test("netdev_bonding_lacp is unsupported without an 802.3ad bond, and says why", async () => {
    const status = await tracerStatus(d.daemon, "netdev_bonding_lacp");
    expect(status.status).toBe("unsupported");
    if (!existsSync("/sys/module/bonding")) expect(status.reason).toBe("no IEEE 802.3ad bond: the bonding driver is not loaded");
  });

  test("netdev_txqueue_timeout runs on the BTF tracepoint", async () => {
    expect(await tracerStatus(d.daemon, "netdev_txqueue_timeout")).toMatchObject({ status: "running", hook: "tp_btf:net/net_dev_xmit_timeout" });
  });
});
