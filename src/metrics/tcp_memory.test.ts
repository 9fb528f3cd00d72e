// tcp_memory: the parsers on strings and the collector on fixtures/.
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
import { UnsupportedError } from "../framework/types";
import { pageSize } from "./sockstat";
import { emitTcpMemory, parseTcpMemLimit, tcpMemPages } from "./tcp_memory";

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

const FIXTURES = join(import.meta.dir, "../../fixtures");

function values(families: Family[]): Record<string, number> {
  const stem = (name: string) => name.replace("huatuo_bamai_tcp_memory_", "");
  return Object.fromEntries(families.map((f) => [stem(f.name), f.samples[0]?.value ?? NaN]));
}

describe("parsers", () => {
  test("parseTcpMemLimit takes the third field", () => {
    expect(parseTcpMemLimit("762414\t1016554\t1524828\n")).toBe(1524828);
    expect(() => parseTcpMemLimit("1 2\n")).toThrow(/tcp_mem/);
  });

  test("tcpMemPages reads TCP mem from sockstat", () => {
    expect(tcpMemPages("sockets: used 3\nTCP: inuse 1 orphan 0 tw 0 alloc 1 mem 83\n")).toBe(83);
    expect(() => tcpMemPages("sockets: used 3\n")).toThrow(/TCP mem/);
  });

  test("usage_percent is a fraction, and 0 when the limit is 0", () => {
    const set = new FamilySet({});
    emitTcpMemory(set.emitterFor("tcp_memory"), { usagePages: 0, limitPages: 0 }, 4096);
    expect(values(set.all()).usage_percent).toBe(0);
  });
});

describe("tcp_memory collector on fixtures", () => {
  beforeAll(() => setRootPrefix(FIXTURES));
  afterAll(() => setRootPrefix(""));

  test("usage against tcp_mem[2]", async () => {
    expect(values(await scrape("tcp_memory"))).toEqual({
      usage_pages: 2217,
      usage_bytes: 2217 * pageSize(),
      limit_pages: 1524828,
      usage_percent: 2217 / 1524828,
    });
  });

  test("without tcp_mem the tracer is unsupported", async () => {
    setRootPrefix("/nonexistent-root");
    try {
      await expect(scrape("tcp_memory")).rejects.toBeInstanceOf(UnsupportedError);
    } finally {
      setRootPrefix(FIXTURES);
    }
  });
});
