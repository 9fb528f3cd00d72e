// Checks the schema's defaults (the seed's values) and its key listing.
import { describe, expect, test } from "bun:test";
import { parseConfigText } from "./load";
import { defaultConfig, listConfigKeys, type Config } from "./schema";

const VIRTUAL = "^(lo)|(docker\\w*)|(veth\\w*)$";

const expected: Config = {
  BlackList: ["netdev_hw", "metax_gpu"],
  BtfPath: "",
  Log: { Level: "Info", File: "" },
  RuntimeCgroup: { LimitInitCPU: 0.5, LimitCPU: 2.0, LimitMem: 2048 },
  Storage: {
    ES: {
      Address: "",
      Index: "huatuo_bamai",
      Username: "",
      Password: "",
      BulkSize: 5,
      FlushInterval: 1,
      BacklogSize: 64,
      InsecureSkipVerify: true,
    },
    LocalFile: { Path: "huatuo-local", RotationSize: 100, MaxRotation: 10 },
  },
  AutoTracing: {
    IssuesList: [],
    CPUIdle: {
      UserThreshold: 75,
      SysThreshold: 45,
      UsageThreshold: 90,
      DeltaUserThreshold: 45,
      DeltaSysThreshold: 20,
      DeltaUsageThreshold: 55,
      Interval: 10,
      IntervalTracing: 1800,
      RunTracingToolTimeout: 10,
      Filter: { Included: [], Excluded: [] },
    },
    CPUSys: { SysThreshold: 45, DeltaSysThreshold: 20, Interval: 10, RunTracingToolTimeout: 10 },
    Dload: { ThresholdLoad: 5, Interval: 10, IntervalTracing: 1800 },
    IOTracing: {
      WbpsThreshold: 1500,
      RbpsThreshold: 2000,
      UtilThreshold: 90,
      AwaitThreshold: 100,
      RunTracingToolTimeout: 10,
      MaxProcDump: 10,
      MaxFilesPerProcDump: 5,
    },
    MemoryBurst: {
      DeltaMemoryBurst: 100,
      DeltaAnonThreshold: 70,
      Interval: 10,
      IntervalTracing: 1800,
      SlidingWindowLength: 60,
      DumpProcessMaxNum: 10,
    },
  },
  EventTracing: {
    IssuesList: [],
    Softirq: { DisabledThreshold: 10000000 },
    MemoryReclaim: { BlockedThreshold: 900000000 },
    NetRxLatency: {
      Driver2NetRx: 5,
      Driver2TCP: 10,
      Driver2Userspace: 115,
      ExcludedContainerQos: ["besteffort"],
      ExcludedHostNetnamespace: true,
    },
    Netdev: { DeviceList: [] },
    Dropwatch: { ExcludedNeighInvalidate: true },
    Ras: { MceThrBackoff: 1800 },
  },
  MetricCollector: {
    NetdevStats: { EnableNetlink: false, DeviceIncluded: "", DeviceExcluded: VIRTUAL },
    NetdevDCB: { DeviceList: [] },
    NetdevHW: { DeviceList: [] },
    Qdisc: { DeviceIncluded: "", DeviceExcluded: VIRTUAL },
    Vmstat: {
      IncludedOnHost:
        "allocstall|nr_active_anon|nr_active_file|nr_boost_pages|nr_dirty|nr_free_pages|nr_inactive_anon|nr_inactive_file|nr_kswapd_boost|nr_mlock|nr_shmem|nr_slab_reclaimable|nr_slab_unreclaimable|nr_unevictable|nr_writeback|numa_pages_migrated|pgdeactivate|pgrefill|pgscan_direct|pgscan_kswapd|pgsteal_direct|pgsteal_kswapd",
      ExcludedOnHost: "total",
      IncludedOnContainer:
        "active_anon|active_file|dirty|inactive_anon|inactive_file|pgdeactivate|pgrefill|pgscan_direct|pgscan_kswapd|pgsteal_direct|pgsteal_kswapd|shmem|unevictable|writeback|pgscan_globaldirect|pgscan_globalkswapd|pgscan_cswapd|pgsteal_cswapd|pgsteal_globaldirect|pgsteal_globalkswapd",
      ExcludedOnContainer: "total",
    },
    MemoryEvents: { Included: "watermark_inc|watermark_dec", Excluded: "" },
    Netstat: { Included: "", Excluded: "" },
    MountPointStat: { MountPointsIncluded: "(^/home$)|(^/$)|(^/boot$)" },
  },
  Pod: {
    KubeletReadOnlyPort: 10255,
    KubeletAuthorizedPort: 10250,
    KubeletClientCertPath:
      "/etc/kubernetes/pki/apiserver-kubelet-client.crt,/etc/kubernetes/pki/apiserver-kubelet-client.key",
  },
  EventsWatch: { MaxClients: 100, KeepAliveInterval: 30, BacklogSize: 1000, ClientQueueSize: 256 },
  HTTPServer: { ListenAddress: ":19704", RequestsPerSecond: 200, MaxBodyBytes: 4194304 },
};

function valueAt(config: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], config);
}

describe("defaults", () => {
  test("every default is the seed's value", () => {
    expect(defaultConfig()).toEqual(expected);
  });

  test("an empty file gives the defaults", () => {
    expect(parseConfigText("", "empty.conf")).toEqual(expected);
  });

  test("missing sections and keys are filled in around the ones given", () => {
    const c = parseConfigText("[AutoTracing.CPUSys]\nSysThreshold = 60\n", "x.conf");
    expect(c.AutoTracing.CPUSys).toEqual({ ...expected.AutoTracing.CPUSys, SysThreshold: 60 });
    expect(c.AutoTracing.CPUIdle).toEqual(expected.AutoTracing.CPUIdle);
    expect(c.Storage).toEqual(expected.Storage);
  });

  test("each call returns a fresh copy", () => {
    const a = defaultConfig();
    a.BlackList.push("oom");
    a.EventTracing.NetRxLatency.ExcludedContainerQos.length = 0;
    expect(defaultConfig()).toEqual(expected);
  });
});

describe("listConfigKeys", () => {
  const keys = listConfigKeys();

  test("paths are unique and every key has a type and a one-line doc", () => {
    expect(new Set(keys.map((k) => k.path)).size).toBe(keys.length);
    for (const k of keys) {
      expect(k.doc.length).toBeGreaterThan(10);
      expect(k.doc).not.toContain("\n");
      expect(k.type.length).toBeGreaterThan(0);
    }
  });

  test("defaults listed are those of defaultConfig, and cover all of it", () => {
    const plain = keys.filter((k) => !k.path.includes("[]"));
    for (const k of plain) expect(valueAt(defaultConfig(), k.path)).toEqual(k.default);
    const leafCount = (node: unknown): number =>
      typeof node === "object" && node !== null && !Array.isArray(node)
        ? Object.values(node).reduce<number>((n, v) => n + leafCount(v), 0)
        : 1;
    expect(plain.length).toBe(leafCount(defaultConfig()));
  });

  test("fields of [[table]] entries are listed under Table[]", () => {
    const paths = keys.map((k) => k.path);
    expect(paths).toContain("AutoTracing.CPUIdle.Filter.Included[].Field");
    expect(paths).toContain("AutoTracing.CPUIdle.Filter.Excluded[].Pattern");
  });

  test("types describe the checks", () => {
    const type = (p: string) => keys.find((k) => k.path === p)?.type;
    expect(type("AutoTracing.CPUSys.SysThreshold")).toBe("integer 0..100");
    expect(type("Pod.KubeletReadOnlyPort")).toBe("integer 0..65535");
    expect(type("RuntimeCgroup.LimitCPU")).toBe("number > 0");
    expect(type("Log.Level")).toBe("Debug|Info|Warn|Error|Panic");
    expect(type("HTTPServer.ListenAddress")).toBe("host:port");
  });
});
