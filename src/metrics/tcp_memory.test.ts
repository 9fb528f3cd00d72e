// tcp_memory: the parsers on strings and the collector on fixtures/.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FamilySet, type Family } from "../framework/families";
import { setRootPrefix } from "../procfs/root";
import { UnsupportedError } from "../framework/types";
import { pageSize } from "./sockstat";
import { emitTcpMemory, parseTcpMemLimit, tcpMemPages } from "./tcp_memory";
import { FIXTURES, firstValues, scrape } from "./testing";

const values = (families: Family[]) => firstValues(families, "huatuo_bamai_tcp_memory_");

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
