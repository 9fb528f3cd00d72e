// netdev_hw: the drop rule and DeviceList matching, and the collector on fixtures/.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { setRootPrefix } from "../procfs/root";
import { hardwareRxDropped, matchesDeviceList } from "./netdev_hw";
import { FIXTURES, scrape } from "./testing";

describe("rules", () => {
  test("rx_missed_errors wins when the driver counts it, else rx_dropped", () => {
    expect(hardwareRxDropped(5210, 7)).toBe(5210);
    expect(hardwareRxDropped(0, 1843)).toBe(1843);
  });

  test("DeviceList entries are whole-name regexes; an empty list matches nothing", () => {
    expect(matchesDeviceList("eth0", ["eth0", "eth1"])).toBe(true);
    expect(matchesDeviceList("eth01", ["eth0"])).toBe(false);
    expect(matchesDeviceList("ens1f0", ["eth0", "ens.*"])).toBe(true);
    expect(matchesDeviceList("eth0", [])).toBe(false);
  });
});

describe("netdev_hw collector on fixtures", () => {
  beforeAll(() => setRootPrefix(FIXTURES));
  afterAll(() => setRootPrefix(""));

  test("listed physical devices with their driver; virtual ones are skipped", async () => {
    const families = await scrape("netdev_hw", {
      config: ({ MetricCollector: mc }) => {
        mc.NetdevHW.DeviceList = ["eth0", "eth1", "lo", "docker0"];
      },
    });
    expect(families.map((f) => [f.name, f.type])).toEqual([["huatuo_bamai_netdev_hw_rx_dropped", "gauge"]]);
    expect(families[0]?.samples.map((s) => [s.labels, s.value])).toEqual([
      [{ device: "eth0", driver: "mlx5_core", host: "huatuo-dev", region: "dev" }, 1843],
      [{ device: "eth1", driver: "ixgbe", host: "huatuo-dev", region: "dev" }, 5210],
    ]);
  });

  test("the default empty DeviceList reports nothing", async () => {
    expect(await scrape("netdev_hw")).toEqual([]);
  });
});
