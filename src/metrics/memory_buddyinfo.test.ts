import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { setRootPrefix } from "../procfs/root";
import { parseBuddyInfo } from "./memory_buddyinfo";
import { createCollector, FIXTURES, removeTempRoots, scrape, tempRoot, valueOf, valuesOf } from "./testing";

afterEach(() => setRootPrefix(""));
afterAll(removeTempRoots);

describe("parseBuddyInfo", () => {
  test("reads node, zone and per-order counts", () => {
    const text =
      "Node 0, zone      DMA      0      0      0      0      0      0      0      0      1      1      3 \n" +
      "Node 1, zone   Normal   3106   2012   1141    950    577    365    214    144     73     46    171 \n";
    expect(parseBuddyInfo(text)).toEqual([
      { node: "0", zone: "DMA", blocks: [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 3] },
      { node: "1", zone: "Normal", blocks: [3106, 2012, 1141, 950, 577, 365, 214, 144, 73, 46, 171] },
    ]);
  });

  test("takes as many orders as the kernel prints", () => {
    const text = "Node 0, zone   Normal " + Array.from({ length: 14 }, (_, i) => ` ${i}`).join("") + "\n";
    expect(parseBuddyInfo(text)[0]?.blocks).toHaveLength(14);
  });

  test("skips lines that are not zone rows", () => {
    expect(parseBuddyInfo("\nsomething else\nNode 0, zone Normal\n")).toEqual([]);
  });
});

describe("memory_buddyinfo collector", () => {
  test("emits blocks{node,zone,order} from the fixtures", async () => {
    setRootPrefix(FIXTURES);
    const families = await scrape("memory_buddyinfo", await createCollector("memory_buddyinfo"));
    expect(families.map((f) => [f.name, f.type])).toEqual([["huatuo_bamai_memory_buddyinfo_blocks", "gauge"]]);
    expect(valuesOf(families, "huatuo_bamai_memory_buddyinfo_blocks").size).toBe(33);
    const blocks = (zone: string, order: string) =>
      valueOf(families, "huatuo_bamai_memory_buddyinfo_blocks", { node: "0", zone, order });
    expect(blocks("DMA", "0")).toBe(1);
    expect(blocks("DMA32", "10")).toBe(612);
    expect(blocks("Normal", "3")).toBe(2904);
  });

  test("a missing /proc/buddyinfo fails the scrape", async () => {
    setRootPrefix(tempRoot({}));
    await expect(scrape("memory_buddyinfo", await createCollector("memory_buddyinfo"))).rejects.toThrow();
  });
});
