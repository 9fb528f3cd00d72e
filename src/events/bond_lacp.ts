// IEEE 802.3ad bond ports from rtnetlink (IFLA_INFO_DATA of the bond, IFLA_INFO_SLAVE_DATA of its ports) and the
// transition HUATUO reports: a port that stops collecting and distributing, as ad_disable_collecting_distributing()
// does (bonding clears the port's COLLECTING/DISTRIBUTING bits and makes it a backup, announced as RTM_NEWLINK).
import type { LinkMessage } from "./rtnl_link";

const IFLA_BOND_MODE = 1;
const BOND_MODE_8023AD = 4;

// enum IFLA_BOND_SLAVE_* (uapi linux/if_link.h)
const SLAVE_STATE = 1;
const SLAVE_MII_STATUS = 2;
const SLAVE_AD_AGGREGATOR_ID = 6;
const SLAVE_AD_ACTOR_OPER_PORT_STATE = 7;
const SLAVE_AD_PARTNER_OPER_PORT_STATE = 8;

/** LACP port state bits (IEEE 802.1AX actor/partner state), lowest first. */
const PORT_STATE_BITS = ["activity", "timeout", "aggregation", "synchronization", "collecting", "distributing", "defaulted", "expired"];
const COLLECTING = 0x10;
const DISTRIBUTING = 0x20;
const MII_STATUS = ["up", "fail", "down", "back"];

export interface BondPort {
  index: number;
  name: string;
  /** ifindex of its bond. */
  master: number;
  /** `active` or `backup`. */
  state: string;
  mii: string;
  aggregatorId: number;
  actorState: number;
  partnerState: number;
}

export function isLacpBond(link: LinkMessage): boolean {
  return link.kind === "bond" && link.info.get(IFLA_BOND_MODE)?.[0] === BOND_MODE_8023AD;
}

const u8 = (data: Uint8Array | undefined) => data?.[0] ?? 0;
const u16 = (data: Uint8Array | undefined) => (data && data.length >= 2 ? data[0]! | (data[1]! << 8) : 0);

/** The 802.3ad state of a bond port, or undefined for a link that is not a port of a bond. */
export function bondPort(link: LinkMessage): BondPort | undefined {
  if (link.slaveKind !== "bond" || !link.master) return undefined;
  const info = link.slaveInfo;
  return {
    index: link.index,
    name: link.name,
    master: link.master,
    state: u8(info.get(SLAVE_STATE)) === 0 ? "active" : "backup",
    mii: MII_STATUS[u8(info.get(SLAVE_MII_STATUS))] ?? "unknown",
    aggregatorId: u16(info.get(SLAVE_AD_AGGREGATOR_ID)),
    actorState: u8(info.get(SLAVE_AD_ACTOR_OPER_PORT_STATE)),
    partnerState: u16(info.get(SLAVE_AD_PARTNER_OPER_PORT_STATE)),
  };
}

export function portStateNames(state: number): string[] {
  return PORT_STATE_BITS.filter((_, bit) => state & (1 << bit));
}

const forwarding = (p: BondPort) => p.state === "active" && (p.actorState & (COLLECTING | DISTRIBUTING)) === (COLLECTING | DISTRIBUTING);

/** The port was collecting and distributing and no longer is. */
export function lacpDisabled(before: BondPort, after: BondPort): boolean {
  return forwarding(before) && !forwarding(after);
}

/** tracer_data fields describing the port next to the user guide's `content`. */
export function portData(bond: string, port: BondPort): Record<string, unknown> {
  return {
    bond,
    slave: port.name,
    slave_state: port.state,
    mii_status: port.mii,
    aggregator_id: port.aggregatorId,
    actor_oper_port_state: portStateNames(port.actorState).join(","),
    partner_oper_port_state: portStateNames(port.partnerState).join(","),
  };
}
