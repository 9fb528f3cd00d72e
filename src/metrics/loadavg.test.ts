import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { setRootPrefix } from "../procfs/root";
import { parseLoadAvg } from "./loadavg";
import { createCollector, FIXTURES, removeTempRoots, scrape, tempRoot, valueOf } from "./testing";

afterEach(() => setRootPrefix(""));
afterAll(removeTempRoots);

describe("parseLoadAvg", () => {
  test("reads the three averages", () => {
    expect(parseLoadAvg("0.30 0.20 0.22 1/523 12345\n")).toEqual({ load1: 0.3, load5: 0.2, load15: 0.22 });
  });

  test("rejects a malformed line", () => {
    expect(() => parseLoadAvg("0.30 x\n")).toThrow("/proc/loadavg: malformed");
    expect(() => parseLoadAvg("")).toThrow("malformed");
  });
});

describe("loadavg collector", () => {
  test("emits load1, load5 and load15 from the fixtures", async () => {
    setRootPrefix(FIXTURES);
    const families = await scrape("loadavg", await createCollector("loadavg"));
    expect(families.map((f) => f.type)).toEqual(["gauge", "gauge", "gauge"]);
    expect(valueOf(families, "huatuo_bamai_loadavg_load1")).toBe(0.72);
    expect(valueOf(families, "huatuo_bamai_loadavg_load5")).toBe(0.58);
    expect(valueOf(families, "huatuo_bamai_loadavg_load15")).toBe(0.51);
  });

  test("a missing /proc/loadavg fails the scrape", async () => {
    setRootPrefix(tempRoot({}));
    await expect(scrape("loadavg", await createCollector("loadavg"))).rejects.toThrow();
  });
});
