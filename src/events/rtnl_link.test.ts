// rtnetlink link messages: decoding ifinfomsg and nested link info, link-status transitions, the device matcher,
// and the netdev_events state machine (baseline, transitions, adoption, removal, resync, counters).
import { describe, expect, test } from "bun:test";
import type { Emitter, Labels } from "../framework/types";
import { stubContext } from "../metrics/testing";
import { buildDocument, type DocumentInput } from "../storage/document";
import { deviceMatcher, NetdevEvents } from "./netdev_events";
import { IFF_LOWER_UP, IFF_UP, linkState, linkTransitions, parseLink, RTM_DELLINK, RTM_NEWLINK } from "./rtnl_link";
import { linkPayload, u8Attr, type LinkSpec } from "./rtnl_testing";

const UP = IFF_UP | IFF_LOWER_UP;
const link = (spec: Partial<LinkSpec>) => parseLink(linkPayload({ index: 7, name: "eth7", flags: 0, ...spec }));

describe("parseLink", () => {
  test("ifinfomsg fields and attributes", () => {
    const l = link({ flags: UP, mac: [0x5c, 0x6f, 0x69, 0x34, 0xdc, 0x72], mtu: 9000, operstate: 6, kind: "veth" });
    expect(l).toMatchObject({ index: 7, name: "eth7", flags: UP, mac: "5c:6f:69:34:dc:72", mtu: 9000, operstate: "up", kind: "veth", master: 0 });
  });

  test("a bond port's nested slave data", () => {
    const l = link({ master: 3, slaveKind: "bond", slaveInfo: [u8Attr(7, 0x3d)] });
    expect(l.slaveKind).toBe("bond");
    expect(l.master).toBe(3);
    expect(Array.from(l.slaveInfo.get(7)!)).toEqual([0x3d]);
  });
});

describe("link status", () => {
  test("transitions: admin first, then carrier; none without a change", () => {
    expect(linkTransitions(UP, 0)).toEqual(["linkstatus_admindown", "linkstatus_carrierdown"]);
    expect(linkTransitions(IFF_UP, UP)).toEqual(["linkstatus_carrierup"]);
    expect(linkTransitions(0, IFF_UP)).toEqual(["linkstatus_adminup"]);
    expect(linkTransitions(UP, UP | 0x40)).toEqual([]);
    expect(linkState(IFF_UP)).toEqual(["linkstatus_adminup", "linkstatus_carrierdown"]);
  });

  test("device list entries are full-match patterns", () => {
    const match = deviceMatcher(["eth[0-9]+", "lo"]);
    expect(["eth0", "eth12", "lo"].every(match)).toBe(true);
    expect(["veth0", "eth0x", "lo0"].some(match)).toBe(false);
  });
});

function netdevEvents(deviceList: string[]) {
  const saved: DocumentInput[] = [];
  const ctx = stubContext({ config: (c) => void (c.EventTracing.Netdev.DeviceList = deviceList) });
  ctx.events = { save: (input) => (saved.push(input), buildDocument({ hostname: "h", region: "r" }, input)) };
  const counters: string[] = [];
  const tracer = new NetdevEvents(ctx);
  const scrape = () => {
    counters.length = 0;
    const counter = (name: string, _help: string, value: number, labels?: Labels) => counters.push(`${name}{${labels?.device}} ${value}`);
    tracer.emit({ counter } as unknown as Emitter);
    return counters;
  };
  return { tracer, saved, scrape, data: () => saved.map((s) => s.data) };
}

const notice = (type: number, spec: Partial<LinkSpec>) => ({ type: type as typeof RTM_NEWLINK, link: link(spec) });

describe("NetdevEvents", () => {
  test("baseline documents for watched devices only, with start: true", () => {
    const n = netdevEvents(["eth7"]);
    n.tracer.baseline([link({ flags: UP }), link({ index: 8, name: "eth8" })]);
    expect(n.data()).toEqual([
      expect.objectContaining({ ifname: "eth7", index: 7, linkstatus: "linkstatus_adminup, linkstatus_carrierup", start: true }),
    ]);
  });

  test("transitions are saved and counted; unchanged flags are not", () => {
    const n = netdevEvents(["eth7"]);
    n.tracer.baseline([link({ flags: UP })]);
    n.tracer.onBatch({ notices: [notice(RTM_NEWLINK, { flags: 0 }), notice(RTM_NEWLINK, { flags: 0, mtu: 1400 })], overflow: false });
    n.tracer.onBatch({ notices: [notice(RTM_NEWLINK, { flags: IFF_UP })], overflow: false });
    expect(n.data().slice(1).map((d) => [d.linkstatus, d.start])).toEqual([
      ["linkstatus_admindown, linkstatus_carrierdown", false],
      ["linkstatus_adminup", false],
    ]);
    expect(n.scrape()).toEqual([
      "linkstatus_adminup_total{eth7} 1",
      "linkstatus_admindown_total{eth7} 1",
      "linkstatus_carrierup_total{eth7} 0",
      "linkstatus_carrierdown_total{eth7} 1",
    ]);
  });

  test("devices created later are adopted silently; removed ones are forgotten", () => {
    const n = netdevEvents(["eth.*"]);
    n.tracer.baseline([]);
    n.tracer.onBatch({ notices: [notice(RTM_NEWLINK, { flags: 0 })], overflow: false });
    expect(n.saved).toHaveLength(0);
    n.tracer.onBatch({ notices: [notice(RTM_NEWLINK, { flags: IFF_UP })], overflow: false });
    expect(n.data()[0]).toMatchObject({ ifname: "eth7", linkstatus: "linkstatus_adminup", start: false });
    n.tracer.onBatch({ notices: [notice(RTM_DELLINK, {})], overflow: false });
    expect(n.scrape()).toEqual([]);
  });

  test("after lost notifications a dump brings the state up to date", () => {
    const n = netdevEvents(["eth.*"]);
    n.tracer.baseline([link({ flags: UP }), link({ index: 9, name: "eth9", flags: UP })]);
    n.tracer.resync([link({ flags: IFF_UP })]);
    expect(n.data().at(-1)).toMatchObject({ ifname: "eth7", linkstatus: "linkstatus_carrierdown" });
    expect([...n.tracer.devices.keys()]).toEqual([7]);
  });
});
