// Netlink encoding and parsing on hand-built byte arrays, then the socket path against this machine's kernel.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import {
  attrString,
  concatBytes,
  dumpLinks,
  encodeAttr,
  encodeMessage,
  encodeGenl,
  encodeGetFamily,
  encodeString,
  GENL_ID_CTRL,
  genlFamilyId,
  LINK_STATS64_FIELDS,
  messageErrno,
  NETLINK_GENERIC,
  NetlinkError,
  NetlinkSocket,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  NLMSG_DONE,
  parseAttrs,
  parseFamilyId,
  parseGenl,
  parseLinkMessage,
  parseLinkStats64,
  parseMessages,
  RTM_GETLINK,
  rtnetlinkRequest,
} from "./netlink";

function u64s(values: number[]): Uint8Array {
  const out = new Uint8Array(values.length * 8);
  const v = new DataView(out.buffer);
  values.forEach((n, i) => v.setBigUint64(i * 8, BigInt(n), true));
  return out;
}

function ifinfomsg(index: number): Uint8Array {
  const out = new Uint8Array(16);
  new DataView(out.buffer).setInt32(4, index, true);
  return out;
}

describe("message encoding", () => {
  test("encodeMessage writes nlmsghdr in host order and pads the payload", () => {
    const msg = encodeMessage(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 7, new Uint8Array([1, 2, 3]));
    const v = new DataView(msg.buffer);
    expect(msg.length).toBe(20);
    expect(v.getUint32(0, true)).toBe(19); // nlmsg_len counts the unpadded payload
    expect(v.getUint16(4, true)).toBe(18);
    expect(v.getUint16(6, true)).toBe(0x301);
    expect(v.getUint32(8, true)).toBe(7);
    expect([...msg.subarray(16)]).toEqual([1, 2, 3, 0]);
  });

  test("encodeAttr pads to 4 bytes and encodeString NUL-terminates", () => {
    const attr = encodeAttr(1, encodeString("eth0"));
    expect([...attr]).toEqual([9, 0, 1, 0, 101, 116, 104, 48, 0, 0, 0, 0]);
  });
});

describe("parseMessages", () => {
  test("splits a datagram at aligned boundaries", () => {
    const buf = concatBytes([
      encodeMessage(16, 2, 5, new Uint8Array([9, 9, 9])),
      encodeMessage(NLMSG_DONE, 2, 5, new Uint8Array(4)),
    ]);
    const msgs = parseMessages(buf);
    expect(msgs.map((m) => [m.type, m.seq, m.payload.length])).toEqual([
      [16, 5, 3],
      [NLMSG_DONE, 5, 4],
    ]);
  });

  test("rejects a length that runs past the buffer", () => {
    const buf = encodeMessage(16, 0, 1, new Uint8Array(8));
    new DataView(buf.buffer).setUint32(0, 64, true);
    expect(() => parseMessages(buf)).toThrow(NetlinkError);
  });

  test("messageErrno turns the negative error field into an errno", () => {
    const payload = new Uint8Array(20);
    new DataView(payload.buffer).setInt32(0, -95, true);
    expect(messageErrno({ type: 2, flags: 0, seq: 1, pid: 0, payload })).toBe(95);
  });
});

describe("parseAttrs", () => {
  test("strips NLA_F_NESTED and stops at a malformed tail", () => {
    const nested = encodeAttr(13 | 0x8000, encodeAttr(2, new Uint8Array([7, 7, 7, 7])));
    const bad = new Uint8Array([200, 0, 3, 0]); // claims 200 bytes
    const attrs = parseAttrs(concatBytes([encodeAttr(3, encodeString("lo")), nested, bad]));
    expect([...attrs.keys()]).toEqual([3, 13]);
    expect(attrString(attrs.get(3) ?? new Uint8Array())).toBe("lo");
    expect([...(parseAttrs(attrs.get(13) ?? new Uint8Array()).get(2) ?? [])]).toEqual([7, 7, 7, 7]);
  });
});

describe("generic netlink", () => {
  test("encodeGenl puts genlmsghdr {cmd, version, reserved} before the attributes", () => {
    expect([...encodeGenl(4, 1, [encodeAttr(1, new Uint8Array([5, 0, 0, 0]))])]).toEqual([4, 1, 0, 0, 8, 0, 1, 0, 5, 0, 0, 0]);
  });

  test("a family lookup asks the controller with CTRL_CMD_GETFAMILY and CTRL_ATTR_FAMILY_NAME", () => {
    const msg = parseGenl(encodeGetFamily("TASKSTATS"));
    expect([msg.cmd, msg.version]).toEqual([3, 1]);
    expect(attrString(msg.attrs.get(2) ?? new Uint8Array())).toBe("TASKSTATS");
  });

  test("parseFamilyId reads CTRL_ATTR_FAMILY_ID as u16 among the reply's attributes", () => {
    const reply = encodeGenl(1, 2, [encodeAttr(2, encodeString("TASKSTATS")), encodeAttr(1, new Uint8Array([0x1f, 0]))]);
    expect(parseFamilyId(reply)).toBe(31);
    expect(() => parseFamilyId(encodeGenl(1, 2, []))).toThrow(NetlinkError);
    expect(() => parseGenl(new Uint8Array(2))).toThrow(NetlinkError);
  });
});

describe("links", () => {
  test("parseLinkMessage reads the index, IFLA_IFNAME and IFLA_STATS64", () => {
    const stats = u64s(LINK_STATS64_FIELDS.map((_, i) => (i + 1) * 10));
    const payload = concatBytes([ifinfomsg(4), encodeAttr(3, encodeString("docker0")), encodeAttr(23, stats)]);
    const link = parseLinkMessage(payload);
    expect(link.index).toBe(4);
    expect(link.name).toBe("docker0");
    expect(link.stats?.rx_packets).toBe(10);
    expect(link.stats?.tx_bytes).toBe(40);
    expect(link.stats?.rx_missed_errors).toBe(160);
  });

  test("a pre-5.19 stats64 without rx_otherhost_dropped leaves that field out", () => {
    const stats = parseLinkStats64(u64s(new Array(24).fill(1)));
    expect(stats.rx_nohandler).toBe(1);
    expect("rx_otherhost_dropped" in stats).toBe(false);
  });

  test("counters above 2^32 survive", () => {
    expect(parseLinkStats64(u64s([2 ** 40 + 3])).rx_packets).toBe(2 ** 40 + 3);
  });
});

describe("against the running kernel", () => {
  /** lo's counters in /proc/self/net/dev: [rx_bytes, rx_packets, tx_bytes, tx_packets]. */
  function procLo(): number[] {
    const line = readFileSync("/proc/self/net/dev", "utf8").split("\n").find((l) => l.trim().startsWith("lo:")) ?? "";
    const f = line.split(":")[1]?.trim().split(/\s+/).map(Number) ?? [];
    return [f[0] ?? NaN, f[1] ?? NaN, f[8] ?? NaN, f[9] ?? NaN];
  }

  test("dumpLinks sees lo with counters between two procfs reads", () => {
    const before = procLo();
    const lo = dumpLinks().find((l) => l.name === "lo");
    const after = procLo();
    expect(lo?.index).toBe(1);
    const got = [lo?.stats?.rx_bytes, lo?.stats?.rx_packets, lo?.stats?.tx_bytes, lo?.stats?.tx_packets].map(Number);
    got.forEach((value, i) => {
      expect(value).toBeGreaterThanOrEqual(before[i] ?? NaN);
      expect(value).toBeLessThanOrEqual(after[i] ?? NaN);
    });
  });

  test("one generic netlink socket serves request after request, an unknown family included", () => {
    const socket = NetlinkSocket.open(NETLINK_GENERIC);
    try {
      expect(genlFamilyId(socket, "nlctrl")).toBe(GENL_ID_CTRL);
      expect(genlFamilyId(socket, "hb-nofamily")).toBeUndefined();
      expect(genlFamilyId(socket, "nlctrl")).toBe(GENL_ID_CTRL);
    } finally {
      socket.close();
    }
  });

  test("a kernel error comes back as NetlinkError with its errno", () => {
    // RTM_GETDCB for a device that does not exist: dcbnl answers ENODEV.
    const header = new Uint8Array([0, 21, 0, 0]);
    const request = concatBytes([header, encodeAttr(1, encodeString("hb-no-such-dev"))]);
    let caught: unknown;
    try {
      rtnetlinkRequest(78, request);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NetlinkError);
    expect((caught as NetlinkError).errno).toBe(19);
  });
});
