// arp: the parsers on strings and the collector on fixtures/.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { setRootPrefix } from "../procfs/root";
import { UnsupportedError } from "../framework/types";
import { countArpEntries, parseArpCacheEntries } from "./arp";
import { FIXTURES, scrape } from "./testing";

describe("parsers", () => {
  test("countArpEntries counts the lines after the header", () => {
    const header = "IP address       HW type     Flags       HW address            Mask     Device\n";
    expect(countArpEntries(header)).toBe(0);
    expect(countArpEntries(header + "10.0.0.1 0x1 0x2 3c:fd:fe:a1:07:22 * eth0\n\n")).toBe(1);
    expect(countArpEntries("")).toBe(0);
  });

  test("parseArpCacheEntries reads the hex entries column of the first CPU row", () => {
    const text = "entries  allocs   destroys\n0000001a 00000002 00000000\n0000001a 00000000 00000001\n";
    expect(parseArpCacheEntries(text)).toBe(26);
    expect(() => parseArpCacheEntries("allocs\n00000001\n")).toThrow(/entries/);
  });
});

describe("arp collector on fixtures", () => {
  beforeAll(() => setRootPrefix(FIXTURES));
  afterAll(() => setRootPrefix(""));

  test("host entries and the all-namespace total", async () => {
    const families = await scrape("arp");
    expect(families.map((f) => [f.name, f.type, f.samples[0]?.value])).toEqual([
      ["huatuo_bamai_arp_entries", "gauge", 5],
      ["huatuo_bamai_arp_total", "gauge", 12],
    ]);
  });

  test("without /proc/net/stat/arp_cache the tracer is unsupported", async () => {
    setRootPrefix("/nonexistent-root");
    try {
      await expect(scrape("arp")).rejects.toBeInstanceOf(UnsupportedError);
    } finally {
      setRootPrefix(FIXTURES);
    }
  });
});
