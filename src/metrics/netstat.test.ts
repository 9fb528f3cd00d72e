// netstat: the paired-line parser on strings and the collector on fixtures/.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { setRootPrefix } from "../procfs/root";
import { parseSnmpPairs } from "./netstat";
import { FIXTURES, scrape } from "./testing";

describe("parseSnmpPairs", () => {
  test("pairs names with values per section, negative values included", () => {
    const text = "Tcp: RtoAlgorithm MaxConn CurrEstab\nTcp: 1 -1 12\nUdp: InDatagrams\nUdp: 9\n";
    const sections = parseSnmpPairs(text);
    expect([...(sections.get("Tcp") ?? [])]).toEqual([
      ["RtoAlgorithm", 1],
      ["MaxConn", -1],
      ["CurrEstab", 12],
    ]);
    expect(sections.get("Udp")?.get("InDatagrams")).toBe(9);
  });

  test("a section split over several pairs (IcmpMsg) is merged", () => {
    const text = "IcmpMsg: InType0 InType3\nIcmpMsg: 1 2\nIcmpMsg: OutType0\nIcmpMsg: 3\n";
    expect(parseSnmpPairs(text).get("IcmpMsg")?.size).toBe(3);
  });

  test("a count mismatch is an error", () => {
    expect(() => parseSnmpPairs("TcpExt: A B\nTcpExt: 1\n")).toThrow(/TcpExt/);
  });
});

describe("netstat collector on fixtures", () => {
  beforeAll(() => setRootPrefix(FIXTURES));
  afterAll(() => setRootPrefix(""));

  test("exports Tcp and TcpExt as <Proto>_<Field> gauges, nothing else", async () => {
    const families = await scrape("netstat");
    const byName = new Map(families.map((f) => [f.name, f]));
    const listen = byName.get("huatuo_bamai_netstat_TcpExt_ListenDrops");
    expect(listen?.type).toBe("gauge");
    expect(listen?.help).toBe("statistic TcpExtListenDrops.");
    expect(listen?.samples[0]?.value).toBe(415);
    expect(byName.get("huatuo_bamai_netstat_Tcp_MaxConn")?.samples[0]?.value).toBe(-1);
    expect(byName.get("huatuo_bamai_netstat_Tcp_RetransSegs")?.samples[0]?.value).toBe(582913);
    const protos = new Set(families.map((f) => f.name.split("_")[3]));
    expect([...protos].sort()).toEqual(["Tcp", "TcpExt"]);
  });

  test("Included and Excluded apply to <Proto>_<Field>", async () => {
    const families = await scrape("netstat", {
      config: ({ MetricCollector: mc }) => {
        mc.Netstat.Included = "^TcpExt_Listen|^Tcp_CurrEstab$";
        mc.Netstat.Excluded = "Overflows";
      },
    });
    expect(families.map((f) => f.name).sort()).toEqual([
      "huatuo_bamai_netstat_TcpExt_ListenDrops",
      "huatuo_bamai_netstat_Tcp_CurrEstab",
    ]);
  });
});
