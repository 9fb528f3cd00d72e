// netdev_qdisc: tcmsg decoding on byte arrays, then the collector against this kernel: the host namespace
// as it is, and a private namespace (ip netns) holding an htb root with a child, an ingress qdisc and a noqueue veth.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { defaultConfig } from "../config/schema";
import type { Family } from "../framework/families";
import { concatBytes, encodeAttr, encodeString } from "../procfs/netlink";
import { parseQdiscMessage, rootQdiscs, type QdiscStats } from "./qdisc";
import { scrape } from "./testing";

const TC_H_ROOT = 0xffffffff;
const NLA_F_NESTED = 0x8000;

function tcmsg(ifindex: number, parent: number): Uint8Array {
  const out = new Uint8Array(20);
  const v = new DataView(out.buffer);
  v.setInt32(4, ifindex, true);
  v.setUint32(8, 0x80010000, true);
  v.setUint32(12, parent, true);
  return out;
}

function words(spec: Array<[bits: 32 | 64, value: number]>): Uint8Array {
  const out = new Uint8Array(spec.reduce((n, [bits]) => n + bits / 8, 0));
  const v = new DataView(out.buffer);
  let offset = 0;
  for (const [bits, value] of spec) {
    if (bits === 64) v.setBigUint64(offset, BigInt(value), true);
    else v.setUint32(offset, value, true);
    offset += bits / 8;
  }
  return out;
}

// gnet_stats_basic is {u64 bytes; u32 packets} padded to 16 bytes; gnet_stats_queue is five u32.
const basic = (bytes: number, packets: number) => encodeAttr(1, words([[64, bytes], [32, packets], [32, 0]]));
const queue = (qlen: number, backlog: number, drops: number, requeues: number, overlimits: number) =>
  encodeAttr(3, words([[32, qlen], [32, backlog], [32, drops], [32, requeues], [32, overlimits]]));
const legacy = encodeAttr(3, words([[64, 1], [32, 2], [32, 3], [32, 4], [32, 0], [32, 0], [32, 5], [32, 6]]));

describe("parseQdiscMessage", () => {
  test("TCA_STATS2 wins over the legacy TCA_STATS", () => {
    const stats2 = encodeAttr(7 | NLA_F_NESTED, concatBytes([basic(2578235443, 6867714), queue(1, 1514, 9, 2, 4)]));
    const kind = encodeAttr(1, encodeString("fq_codel"));
    const q = parseQdiscMessage(concatBytes([tcmsg(2, TC_H_ROOT), kind, legacy, stats2]));
    expect(q).toEqual({
      ifindex: 2,
      parent: TC_H_ROOT,
      kind: "fq_codel",
      bytes: 2578235443,
      packets: 6867714,
      qlen: 1,
      backlog: 1514,
      drops: 9,
      requeues: 2,
      overlimits: 4,
    });
  });

  test("TCA_STATS_PKT64 replaces the wrapped u32 packet count", () => {
    const pkt64 = encodeAttr(8, words([[64, 2 ** 32 + 5]]));
    const stats2 = encodeAttr(7, concatBytes([basic(10, 5), pkt64]));
    expect(parseQdiscMessage(concatBytes([tcmsg(3, TC_H_ROOT), stats2])).packets).toBe(2 ** 32 + 5);
  });

  test("only the legacy struct: no requeues", () => {
    const q = parseQdiscMessage(concatBytes([tcmsg(3, TC_H_ROOT), encodeAttr(1, encodeString("pfifo")), legacy]));
    expect([q.bytes, q.packets, q.drops, q.overlimits, q.requeues, q.qlen, q.backlog]).toEqual([1, 2, 3, 4, 0, 5, 6]);
  });

  test("rootQdiscs keeps roots other than noqueue", () => {
    const q = (kind: string, parent: number) => ({ kind, parent }) as QdiscStats;
    const all = [q("mq", TC_H_ROOT), q("fq_codel", 0x10001), q("noqueue", TC_H_ROOT), q("ingress", 0xfffffff1)];
    const kept = rootQdiscs(all);
    expect(kept.map((k) => k.kind)).toEqual(["mq"]);
  });
});

interface TcQdisc {
  kind: string;
  dev: string;
  root?: boolean;
  bytes: number;
  packets: number;
  drops: number;
  requeues: number;
  overlimits: number;
  backlog: number;
  qlen: number;
}

function run(cmd: string[]): string {
  const result = Bun.spawnSync(cmd);
  if (result.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${result.stderr.toString()}`);
  return result.stdout.toString();
}

/** Root qdiscs other than noqueue, as `tc -s -j qdisc show` reports them (run with `prefix`, e.g. ip netns exec). */
function tcRoots(prefix: string[]): TcQdisc[] {
  const all = JSON.parse(run([...prefix, "tc", "-s", "-j", "qdisc", "show"])) as TcQdisc[];
  return all.filter((q) => q.root && q.kind !== "noqueue");
}

/** One sample per (device, kind): family stem -> value. */
function byDevice(families: Family[]): Map<string, Record<string, number>> {
  const out = new Map<string, Record<string, number>>();
  for (const f of families) {
    for (const s of f.samples) {
      const key = `${s.labels.device}/${s.labels.kind}`;
      out.set(key, { ...out.get(key), [f.name.replace("huatuo_bamai_netdev_qdisc_", "")]: s.value });
    }
  }
  return out;
}

describe("netdev_qdisc collector on this kernel", () => {
  test("host namespace: the root qdiscs tc shows, never beyond its later counters", async () => {
    const families = await scrape("netdev_qdisc", { config: (c) => (c.MetricCollector.Qdisc.DeviceExcluded = "") });
    const tc = tcRoots([]);
    const got = byDevice(families);
    expect([...got.keys()].sort()).toEqual(tc.map((q) => `${q.dev}/${q.kind}`).sort());
    for (const q of tc) {
      const mine = got.get(`${q.dev}/${q.kind}`);
      expect(mine?.packets_total).toBeLessThanOrEqual(q.packets);
      expect(mine?.bytes_total).toBeLessThanOrEqual(q.bytes);
    }
    expect(families.find((f) => f.name.endsWith("_backlog"))?.type ?? "gauge").toBe("gauge");
  });

  describe("private namespace", () => {
    const ns = `hbqdisc${process.pid}`;
    const inNs = ["ip", "netns", "exec", ns];

    beforeAll(() => {
      run(["ip", "netns", "add", ns]);
      for (const cmd of [
        "ip link set lo up",
        "tc qdisc add dev lo root handle 1: htb default 10",
        "tc class add dev lo parent 1: classid 1:10 htb rate 100mbit",
        "tc qdisc add dev lo parent 1:10 handle 10: pfifo",
        "tc qdisc add dev lo ingress",
        "ip link add hbv0 type veth peer name hbv1",
        "ip link set hbv0 up",
      ]) {
        run([...inNs, ...cmd.split(" ")]);
      }
      // Traffic through lo's htb: datagrams to the discard port (each also draws an ICMP port unreachable).
      run([...inNs, "bash", "-c", "for i in 1 2 3 4 5; do echo hb >/dev/udp/127.0.0.1/9; done"]);
    });
    afterAll(() => {
      Bun.spawnSync(["ip", "netns", "del", ns]);
    });

    /** Runs the collector inside the namespace in a child Bun (netns is per thread; this keeps ours untouched). */
    function scrapeInNs(excluded: string): Array<{ name: string; type: string; samples: Family["samples"] }> {
      const src = join(import.meta.dir, "..");
      const script = `
        import "${src}/metrics/qdisc";
        import { scrape } from "${src}/metrics/testing";
        const excluded = ${JSON.stringify(excluded)};
        const families = await scrape("netdev_qdisc", { config: (c) => (c.MetricCollector.Qdisc.DeviceExcluded = excluded) });
        console.log(JSON.stringify(families));`;
      return JSON.parse(run([...inNs, process.execPath, "-e", script]));
    }

    test("only lo's htb root: not its pfifo child, not ingress, not the noqueue veth", () => {
      const families = scrapeInNs("") as Family[];
      const tc = tcRoots(inNs).find((q) => q.dev === "lo");
      if (!tc) throw new Error("tc shows no root qdisc on lo");
      expect(tc.kind).toBe("htb");
      expect(tc.packets).toBeGreaterThanOrEqual(5);
      expect([...byDevice(families)]).toEqual([
        [
          "lo/htb",
          {
            backlog: tc.backlog,
            bytes_total: tc.bytes,
            current_queue_length: tc.qlen,
            drops_total: tc.drops,
            overlimits_total: tc.overlimits,
            packets_total: tc.packets,
            requeues_total: tc.requeues,
          },
        ],
      ]);
      const types = Object.fromEntries(families.map((f) => [f.name, f.type]));
      expect(types.huatuo_bamai_netdev_qdisc_backlog).toBe("gauge");
      expect(types.huatuo_bamai_netdev_qdisc_current_queue_length).toBe("gauge");
      expect(types.huatuo_bamai_netdev_qdisc_bytes_total).toBe("counter");
    });

    test("the default DeviceExcluded skips lo", () => {
      expect(scrapeInNs(defaultConfig().MetricCollector.Qdisc.DeviceExcluded)).toEqual([]);
    });
  });
});
