// netdev_hw: the drop rule and DeviceList matching, and the collector on fixtures/.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { defaultConfig, type Config } from "../config/schema";
import { ConfigStore } from "../config/store";
import { FamilySet, type Family } from "../framework/families";
import { registeredTracers } from "../framework/registry";
import { rootLogger } from "../log";
import { noContainers } from "../pod/types";
import { discardEvents } from "../storage/sink";
import { setRootPrefix } from "../procfs/root";
import { hardwareRxDropped, matchesDeviceList } from "./netdev_hw";

// Minimal stand-in for a shared stub context (no src/metrics/testing.ts existed when this was written).
async function scrape(name: string, patch: (mc: Config["MetricCollector"]) => void = () => {}): Promise<Family[]> {
  const config = defaultConfig();
  patch(config.MetricCollector);
  const store = new ConfigStore(config);
  const ctx = { config: store, log: rootLogger, containers: noContainers, region: "dev", hostname: "h", events: discardEvents };
  const tracer = await registeredTracers().find((d) => d.name === name)!.create(ctx);
  const set = new FamilySet({ host: "h", region: "dev" });
  await tracer.collector!.collect(set.emitterFor(name), new AbortController().signal);
  return set.all();
}

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
  beforeAll(() => setRootPrefix(join(import.meta.dir, "../../fixtures")));
  afterAll(() => setRootPrefix(""));

  test("listed physical devices with their driver; virtual ones are skipped", async () => {
    const families = await scrape("netdev_hw", (mc) => {
      mc.NetdevHW.DeviceList = ["eth0", "eth1", "lo", "docker0"];
    });
    expect(families.map((f) => [f.name, f.type])).toEqual([["huatuo_bamai_netdev_hw_rx_dropped", "gauge"]]);
    expect(families[0]?.samples.map((s) => [s.labels, s.value])).toEqual([
      [{ device: "eth0", driver: "mlx5_core", host: "h", region: "dev" }, 1843],
      [{ device: "eth1", driver: "ixgbe", host: "h", region: "dev" }, 5210],
    ]);
  });

  test("the default empty DeviceList reports nothing", async () => {
    expect(await scrape("netdev_hw")).toEqual([]);
  });
});
