// netdev_dcb: the DCB request and reply on byte arrays, and the collector against this machine's kernel.
import { describe, expect, test } from "bun:test";
import { FamilySet } from "../framework/families";
import { concatBytes, encodeAttr, encodeString, NetlinkError, rtnetlinkRequest } from "../procfs/netlink";
import { emitPfc, encodeIeeeGet, parseIeeeGetReply } from "./netdev_dcb";
import { scrape } from "./testing";

const NLA_F_NESTED = 0x8000;

/** A DCB_CMD_IEEE_GET reply as dcbnl builds it: dcbmsg, IFNAME, then DCB_ATTR_IEEE { ETS, PFC }. */
function reply(pfc: Uint8Array | undefined): Uint8Array {
  const inner = [encodeAttr(1, new Uint8Array(44))];
  if (pfc) inner.push(encodeAttr(2, pfc));
  const dcbmsg = new Uint8Array([0, 21, 0, 0]);
  return concatBytes([dcbmsg, encodeAttr(1, encodeString("eth0")), encodeAttr(13 | NLA_F_NESTED, concatBytes(inner))]);
}

function ieeePfc(requests: number[], indications: number[]): Uint8Array {
  const out = new Uint8Array(136);
  const v = new DataView(out.buffer);
  out[0] = 8; // pfc_cap
  out[1] = 0b00001000; // pfc_en: priority 3
  requests.forEach((n, p) => v.setBigUint64(8 + p * 8, BigInt(n), true));
  indications.forEach((n, p) => v.setBigUint64(72 + p * 8, BigInt(n), true));
  return out;
}

describe("DCB messages", () => {
  test("encodeIeeeGet: dcbmsg with DCB_CMD_IEEE_GET, then DCB_ATTR_IFNAME", () => {
    expect([...encodeIeeeGet("eth0")]).toEqual([0, 21, 0, 0, 9, 0, 1, 0, 101, 116, 104, 48, 0, 0, 0, 0]);
  });

  test("parseIeeeGetReply reads requests as sent and indications as received", () => {
    const pfc = parseIeeeGetReply(reply(ieeePfc([0, 0, 0, 120, 0, 0, 0, 0], [0, 0, 0, 2 ** 33, 0, 0, 0, 1])));
    expect(pfc?.sent).toEqual([0, 0, 0, 120, 0, 0, 0, 0]);
    expect(pfc?.received).toEqual([0, 0, 0, 2 ** 33, 0, 0, 0, 1]);
  });

  test("a driver without ieee_getpfc sends no PFC attribute", () => {
    expect(parseIeeeGetReply(reply(undefined))).toBeUndefined();
    expect(parseIeeeGetReply(reply(new Uint8Array(40)))).toBeUndefined();
  });

  test("emitPfc: two counters per priority", () => {
    const set = new FamilySet({});
    emitPfc(set.emitterFor("netdev_dcb"), "eth0", { sent: [1, 2, 3, 4, 5, 6, 7, 8], received: new Array(8).fill(0) });
    const sent = set.all().find((f) => f.name === "huatuo_bamai_netdev_dcb_pfc_send_total");
    expect(sent?.type).toBe("counter");
    expect(sent?.samples.map((s) => [s.labels.device, s.labels.prio, s.value])[3]).toEqual(["eth0", "3", 4]);
    expect(set.all().map((f) => f.samples.length)).toEqual([8, 8]);
  });
});

describe("netdev_dcb collector on this kernel", () => {
  test("the kernel answers EOPNOTSUPP for lo, which has no dcbnl_ops", () => {
    let caught: unknown;
    try {
      rtnetlinkRequest(78, encodeIeeeGet("lo"));
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NetlinkError);
    expect((caught as NetlinkError).errno).toBe(95);
  });

  test("devices whose driver has no DCB support (EOPNOTSUPP) are skipped, not errors", async () => {
    expect(await scrape("netdev_dcb", { config: (c) => (c.MetricCollector.NetdevDCB.DeviceList = [".*"]) })).toEqual([]);
  });
});
