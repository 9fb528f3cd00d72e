// netdev: the /proc/net/dev parser on strings, the collector on fixtures/, and netlink mode on this kernel.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Family } from "../framework/families";
import { setRootPrefix } from "../procfs/root";
import { netlinkCounters, parseNetDev } from "./netdev";
import { FIXTURES, scrape } from "./testing";

function devicesOf(families: Family[], family: string): string[] {
  return (families.find((f) => f.name === family)?.samples ?? []).map((s) => s.labels.device ?? "");
}

const SAMPLE = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo:    3293      31    0    0    0     0          0         0     3293      31    0    0    0     0       0          0
  eth0:982374650112 1203847561    3 1843    0     3          0     48211 411928374412 730918273    0   12    0     0       0          0
docker0:29384711  301922    0    0    0     0          0         0 1928374651  411203    0    0    0     0       0          0
`;

describe("parseNetDev", () => {
  test("splits at the colon even without a following space", () => {
    const devices = parseNetDev(SAMPLE);
    expect(devices.map((d) => d.device)).toEqual(["lo", "eth0", "docker0"]);
    const eth0 = devices[1]?.counters;
    expect(eth0?.get("receive_bytes")).toBe(982374650112);
    expect(eth0?.get("receive_dropped")).toBe(1843);
    expect(eth0?.get("receive_frame")).toBe(3);
    expect(eth0?.get("receive_multicast")).toBe(48211);
    expect(eth0?.get("transmit_dropped")).toBe(12);
    expect(devices[2]?.counters.get("receive_bytes")).toBe(29384711);
    expect(eth0?.size).toBe(16);
  });

  test("a truncated line is an error, not a silent zero", () => {
    const broken = SAMPLE.split("\n").slice(0, 2).join("\n") + "\n  eth9: 1 2 3\n";
    expect(() => parseNetDev(broken)).toThrow(/eth9/);
  });

  test("netlinkCounters maps rtnl_link_stats64 fields to the netlink-mode names", () => {
    const c = netlinkCounters("eth0", { rx_bytes: 5, tx_carrier_errors: 2, multicast: 9, rx_otherhost_dropped: 1 });
    expect([...c.counters]).toEqual([
      ["receive_bytes", 5],
      ["transmit_carrier_errors", 2],
      ["multicast", 9],
    ]);
  });
});

describe("netdev collector on fixtures", () => {
  beforeAll(() => setRootPrefix(FIXTURES));
  afterAll(() => setRootPrefix(""));

  test("the default DeviceExcluded drops lo, docker* and veth*", async () => {
    const families = await scrape("netdev");
    expect(families).toHaveLength(16);
    const rx = families.find((f) => f.name === "huatuo_bamai_netdev_receive_bytes_total");
    expect(rx?.type).toBe("counter");
    expect(rx?.samples.map((s) => [s.labels, s.value])).toEqual([
      [{ device: "eth0", host: "huatuo-dev", region: "dev" }, 982374650112],
      [{ device: "eth1", host: "huatuo-dev", region: "dev" }, 55120394871],
    ]);
    // /proc/net/dev folds rx_missed_errors into its drop column.
    const drop = families.find((f) => f.name === "huatuo_bamai_netdev_receive_dropped_total");
    expect(drop?.samples.map((s) => s.value)).toEqual([1843, 5210]);
    expect(families.map((f) => f.name)).toContain("huatuo_bamai_netdev_transmit_colls_total");
  });

  test("DeviceIncluded then DeviceExcluded, unanchored", async () => {
    const families = await scrape("netdev", {
      config: ({ MetricCollector: mc }) => {
        mc.NetdevStats.DeviceIncluded = "eth|veth";
        mc.NetdevStats.DeviceExcluded = "eth1";
      },
    });
    expect(devicesOf(families, "huatuo_bamai_netdev_transmit_packets_total")).toEqual(["eth0", "veth3a1f2c9"]);
  });

  test("a missing net/dev fails the scrape", async () => {
    setRootPrefix("/nonexistent-root");
    try {
      await expect(scrape("netdev")).rejects.toThrow();
    } finally {
      setRootPrefix(FIXTURES);
    }
  });
});

describe("netdev collector in netlink mode, on this kernel", () => {
  test("reports lo with the netlink-mode names when nothing is excluded", async () => {
    const families = await scrape("netdev", {
      config: ({ MetricCollector: mc }) => {
        mc.NetdevStats.EnableNetlink = true;
        mc.NetdevStats.DeviceExcluded = "";
      },
    });
    expect(devicesOf(families, "huatuo_bamai_netdev_receive_packets_total")).toContain("lo");
    const names = families.map((f) => f.name);
    expect(names).toContain("huatuo_bamai_netdev_receive_missed_errors_total");
    expect(names).toContain("huatuo_bamai_netdev_collisions_total");
    expect(names).not.toContain("huatuo_bamai_netdev_receive_multicast_total");
  });
});
