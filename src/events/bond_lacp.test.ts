// 802.3ad bond ports from rtnetlink messages laid out per uapi linux/if_link.h (no bonding driver on the test host
// to record from), the disable transition, and netdev_bonding_lacp's documents with the /proc/net/bonding files.
import { afterAll, describe, expect, test } from "bun:test";
import { removeTempRoots, stubContext, tempRoot } from "../metrics/testing";
import { getRootPrefix, setRootPrefix } from "../procfs/root";
import { buildDocument, type DocumentInput } from "../storage/document";
import { bondPort, isLacpBond, lacpDisabled, portStateNames } from "./bond_lacp";
import { BondingLacp } from "./netdev_bonding_lacp";
import { parseLink, RTM_NEWLINK } from "./rtnl_link";
import { linkPayload, u16Attr, u8Attr } from "./rtnl_testing";

const FORWARDING = 0x3d; // activity, aggregation, synchronization, collecting, distributing

const bond = (mode: number) => parseLink(linkPayload({ index: 3, name: "bond0", flags: 1, kind: "bond", info: [u8Attr(1, mode)] }));

function port(state: number, actor: number) {
  const slaveInfo = [u8Attr(1, state), u8Attr(2, 0), u16Attr(6, 1), u8Attr(7, actor), u16Attr(8, FORWARDING)];
  return parseLink(linkPayload({ index: 4, name: "eth0", flags: 1, master: 3, slaveKind: "bond", slaveInfo }));
}

describe("bond ports", () => {
  test("only mode 4 bonds are 802.3ad", () => {
    expect(isLacpBond(bond(4))).toBe(true);
    expect(isLacpBond(bond(1))).toBe(false);
  });

  test("a port's 802.3ad state", () => {
    expect(bondPort(port(0, FORWARDING))).toEqual({
      index: 4, name: "eth0", master: 3, state: "active", mii: "up", aggregatorId: 1, actorState: FORWARDING, partnerState: FORWARDING,
    });
    expect(bondPort(bond(4))).toBeUndefined();
    expect(portStateNames(FORWARDING)).toEqual(["activity", "aggregation", "synchronization", "collecting", "distributing"]);
  });

  test("disabled: it was collecting and distributing and is not, or became a backup", () => {
    const active = bondPort(port(0, FORWARDING))!;
    expect(lacpDisabled(active, bondPort(port(0, 0x0d))!)).toBe(true);
    expect(lacpDisabled(active, bondPort(port(1, FORWARDING))!)).toBe(true);
    expect(lacpDisabled(active, active)).toBe(false);
    expect(lacpDisabled(bondPort(port(0, 0x0d))!, active)).toBe(false);
  });
});

describe("BondingLacp", () => {
  const previous = getRootPrefix();
  afterAll(() => {
    setRootPrefix(previous);
    removeTempRoots();
  });

  test("a disabled port saves the bonding files and the port's state, and counts", async () => {
    setRootPrefix(tempRoot({ "proc/net/bonding/bond0": "Bonding Mode: IEEE 802.3ad Dynamic link aggregation\n" }));
    const saved: DocumentInput[] = [];
    const ctx = stubContext();
    ctx.events = { save: (input) => (saved.push(input), buildDocument({ hostname: "h", region: "r" }, input)) };
    const tracer = new BondingLacp(ctx);
    expect(tracer.update([bond(4), port(0, FORWARDING)])).toEqual([]);
    tracer.onBatch({ notices: [{ type: RTM_NEWLINK, link: port(1, 0x0d) }], overflow: false });
    await Bun.sleep(20);
    expect(tracer.total).toBe(1);
    expect(saved[0]!.tracerName).toBe("netdev_bonding_lacp");
    expect(saved[0]!.data).toEqual({
      content: `${getRootPrefix()}/proc/net/bonding/bond0\nBonding Mode: IEEE 802.3ad Dynamic link aggregation\n`,
      bond: "bond0",
      slave: "eth0",
      slave_state: "backup",
      mii_status: "up",
      aggregator_id: 1,
      actor_oper_port_state: "activity,aggregation,synchronization",
      partner_oper_port_state: "activity,aggregation,synchronization,collecting,distributing",
    });
  });

  test("ports of bonds in other modes are ignored", () => {
    const tracer = new BondingLacp(stubContext());
    tracer.update([bond(1), port(0, FORWARDING)]);
    expect(tracer.update([port(1, 0)])).toEqual([]);
  });
});
