// sockstat: the parser on strings and the collector on fixtures/.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FamilySet, type Family } from "../framework/families";
import { setRootPrefix } from "../procfs/root";
import { emitSockstat, pageSize, parseSockstat } from "./sockstat";
import { FIXTURES, firstValues, scrape } from "./testing";

const values = (families: Family[]) => firstValues(families, "huatuo_bamai_sockstat_");

describe("parseSockstat", () => {
  test("reads sockets used and each protocol's pairs", () => {
    const stat = parseSockstat("sockets: used 13\nTCP: inuse 1 orphan 0 tw 4 alloc 2 mem 83\nFRAG: inuse 0 memory 0\n");
    expect(stat.socketsUsed).toBe(13);
    expect([...(stat.protocols.get("TCP") ?? [])]).toEqual([
      ["inuse", 1],
      ["orphan", 0],
      ["tw", 4],
      ["alloc", 2],
      ["mem", 83],
    ]);
    expect(stat.protocols.get("FRAG")?.get("memory")).toBe(0);
  });

  test("a non-numeric value is an error", () => {
    expect(() => parseSockstat("TCP: inuse x\n")).toThrow(/TCP/);
  });
});

describe("emitSockstat", () => {
  test("container series leave out the global page counts", () => {
    const set = new FamilySet({});
    emitSockstat(set.emitterFor("sockstat"), parseSockstat("TCP: inuse 1 mem 83\nFRAG: inuse 0 memory 5\n"), false);
    expect(Object.keys(values(set.all()))).toEqual(["TCP_inuse", "FRAG_inuse", "FRAG_memory"]);
  });
});

describe("sockstat collector on fixtures", () => {
  beforeAll(() => setRootPrefix(FIXTURES));
  afterAll(() => setRootPrefix(""));

  test("host series, with memory in pages and bytes", async () => {
    const families = await scrape("sockstat");
    expect(families.every((f) => f.type === "gauge")).toBe(true);
    const tw = families.find((f) => f.name === "huatuo_bamai_sockstat_TCP_tw");
    expect(tw?.help).toBe("Number of TCP sockets in state tw.");
    expect(values(families)).toEqual({
      sockets_used: 1873,
      TCP_inuse: 412,
      TCP_orphan: 3,
      TCP_tw: 1290,
      TCP_alloc: 455,
      TCP_mem: 2217,
      TCP_mem_bytes: 2217 * pageSize(),
      UDP_inuse: 18,
      UDP_mem: 41,
      UDP_mem_bytes: 41 * pageSize(),
      UDPLITE_inuse: 0,
      RAW_inuse: 1,
      FRAG_inuse: 0,
      FRAG_memory: 0,
    });
  });
});

test("pageSize is the kernel's", () => {
  expect([4096, 16384, 65536]).toContain(pageSize());
});
