// Checks that each kind of config fault is one line naming file, line, key and what is wrong.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ConfigError, loadConfigFile, mergeBlackList, parseConfigText } from "./load";
import { defaultConfig } from "./schema";

const FILE = "huatuo-bamai.conf";

/** The ConfigError that `text` raises. */
function errorOf(text: string): ConfigError {
  try {
    parseConfigText(text, FILE);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    expect((e as Error).message).not.toContain("\n");
    return e as ConfigError;
  }
  throw new Error(`expected a ConfigError for:\n${text}`);
}

const messageOf = (text: string): string => errorOf(text).message;

describe("unknown keys", () => {
  test("top level", () => {
    expect(messageOf('# comment\nBlackLists = ["oom"]\n')).toBe(
      `${FILE}:2: unknown key BlackLists (did you mean BlackList?)`,
    );
  });

  test("nested, with a suggestion", () => {
    const text = "[Storage]\n\n[Storage.LocalFile]\nPath = \"x\"\nRotationSizeMiB = 5\n";
    expect(messageOf(text)).toBe(`${FILE}:5: unknown key Storage.LocalFile.RotationSizeMiB (did you mean RotationSize?)`);
  });

  test("case mistakes are suggested", () => {
    expect(messageOf("[Log]\nlevel = \"info\"\n")).toBe(`${FILE}:2: unknown key Log.level (did you mean Level?)`);
  });

  test("unknown section, and no far-fetched suggestion", () => {
    expect(messageOf("[Log]\n[Tasks]\nMaxConcurrent = 1\n")).toBe(`${FILE}:2: unknown section Tasks`);
    expect(messageOf("[EventTracing.SchedTick]\nIntervalThreshold = 1\n")).toBe(
      `${FILE}:1: unknown section EventTracing.SchedTick`,
    );
  });

  test("dotted keys are located too", () => {
    expect(messageOf("[Storage]\nLocalFile.MaxRotations = 3\n")).toBe(
      `${FILE}:2: unknown key Storage.LocalFile.MaxRotations (did you mean MaxRotation?)`,
    );
  });

  test("inside [[table]] entries", () => {
    const text = '[[AutoTracing.CPUIdle.Filter.Included]]\nField = "container_qos"\nPattern = "x"\nPatern = "y"\n';
    expect(messageOf(text)).toBe(
      `${FILE}:4: unknown key AutoTracing.CPUIdle.Filter.Included[0].Patern (did you mean Pattern?)`,
    );
  });

  test("all problems are kept, the first is the message", () => {
    const err = errorOf("Foo = 1\n[Log]\nLevel = \"loud\"\n");
    expect(err.problems.map((p) => p.text)).toEqual([
      `${FILE}:1: unknown key Foo`,
      `${FILE}:3: Log.Level: must be one of Debug, Info, Warn, Error, Panic, got "loud"`,
    ]);
    expect(err.problems[1]).toMatchObject({ file: FILE, line: 3, key: "Log.Level" });
  });
});

describe("syntax", () => {
  test("TOML syntax error names the line", () => {
    expect(messageOf("[Log]\nLevel = \"Info\"\nFile = \n")).toMatch(/^huatuo-bamai\.conf:3: TOML syntax error: \S/);
  });

  test("duplicate key", () => {
    expect(messageOf("[Log]\nLevel = \"Info\"\nLevel = \"Warn\"\n")).toMatch(
      /^huatuo-bamai\.conf:3: TOML syntax error: Can't redefine existing key/,
    );
  });
});

describe("values", () => {
  test("wrong type", () => {
    expect(messageOf("[Storage.LocalFile]\nRotationSize = \"100\"\n")).toBe(
      `${FILE}:2: Storage.LocalFile.RotationSize: must be an integer, got string "100"`,
    );
    expect(messageOf("[EventTracing.NetRxLatency]\nExcludedHostNetnamespace = 1\n")).toBe(
      `${FILE}:2: EventTracing.NetRxLatency.ExcludedHostNetnamespace: must be true or false, got 1`,
    );
    expect(messageOf("Log = 3\n")).toBe(`${FILE}:1: Log: must be a table ([Log] section), got 3`);
    expect(messageOf("[AutoTracing.Dload]\nInterval = 2.5\n")).toBe(
      `${FILE}:2: AutoTracing.Dload.Interval: must be an integer, got 2.5`,
    );
  });

  test("integers and floats", () => {
    const c = parseConfigText("[RuntimeCgroup]\nLimitCPU = 3\nLimitInitCPU = 0.25\n", FILE);
    expect(c.RuntimeCgroup).toMatchObject({ LimitCPU: 3, LimitInitCPU: 0.25 });
    expect(messageOf("[RuntimeCgroup]\nLimitCPU = 0.0\n")).toBe(
      `${FILE}:2: RuntimeCgroup.LimitCPU: must be greater than 0, got 0`,
    );
  });

  test("out of range", () => {
    const text = "[AutoTracing]\n[AutoTracing.CPUSys]\nSysThreshold = 140\n";
    expect(messageOf(text)).toBe(`${FILE}:3: AutoTracing.CPUSys.SysThreshold: must be between 0 and 100, got 140`);
    expect(messageOf("[Pod]\nKubeletReadOnlyPort = 70000\n")).toBe(
      `${FILE}:2: Pod.KubeletReadOnlyPort: must be between 0 and 65535, got 70000`,
    );
    expect(messageOf("[EventsWatch]\nMaxClients = 0\n")).toBe(
      `${FILE}:2: EventsWatch.MaxClients: must be greater than 0, got 0`,
    );
    expect(messageOf("[Storage.LocalFile]\nMaxRotation = 99999999999999999999\n")).toContain(
      "Storage.LocalFile.MaxRotation: must be an integer",
    );
  });

  test("bad regex", () => {
    expect(messageOf('[MetricCollector.Netstat]\nIncluded = "Tcp_(Retrans"\n')).toBe(
      `${FILE}:2: MetricCollector.Netstat.Included: invalid regular expression "Tcp_(Retrans": missing )`,
    );
    expect(messageOf('[EventTracing.Netdev]\nDeviceList = ["eth0", "eth[1"]\n')).toMatch(
      /^huatuo-bamai\.conf:2: EventTracing\.Netdev\.DeviceList\[1\]: invalid device pattern "eth\[1"/,
    );
  });

  test("enum lists are checked and normalised", () => {
    const c = parseConfigText('[EventTracing.NetRxLatency]\nExcludedContainerQos = ["BestEffort", "Burstable"]\n', FILE);
    expect(c.EventTracing.NetRxLatency.ExcludedContainerQos).toEqual(["besteffort", "burstable"]);
    expect(messageOf('[EventTracing.NetRxLatency]\nExcludedContainerQos = ["gold"]\n')).toBe(
      `${FILE}:2: EventTracing.NetRxLatency.ExcludedContainerQos[0]: must be one of guaranteed, burstable, besteffort, got "gold"`,
    );
    expect(parseConfigText('[Log]\nLevel = "debug"\n', FILE).Log.Level).toBe("Debug");
  });
});

describe("Storage.ES", () => {
  const es = (body: string) => `[Storage]\n[Storage.ES]\n${body}`;

  test("all set enables, all empty disables", () => {
    const on = parseConfigText(es('Address = "https://a:9200, http://b:9200"\nUsername = "u"\nPassword = "p"\n'), FILE);
    expect(on.Storage.ES).toMatchObject({ Address: "https://a:9200, http://b:9200", Username: "u", Password: "p" });
    expect(parseConfigText(es('Index = "other"\n'), FILE).Storage.ES.Index).toBe("other");
  });

  test("partial credentials name what is missing", () => {
    expect(messageOf(es('Username = "elastic"\nPassword = "huatuo-bamai"\n'))).toBe(
      `${FILE}:2: Storage.ES: Address is empty but Username and Password are set; set all of Address, Username and Password to enable Elasticsearch storage, or leave all empty to disable it`,
    );
    expect(messageOf(es('Address = "http://127.0.0.1:9200"\nPassword = "  "\n'))).toMatch(
      /^huatuo-bamai\.conf:2: Storage\.ES: Username and Password are empty but Address is set;/,
    );
  });

  test("bad URL", () => {
    expect(messageOf(es('Address = "127.0.0.1:9200"\nUsername = "u"\nPassword = "p"\n'))).toBe(
      `${FILE}:3: Storage.ES.Address: "127.0.0.1:9200" is not a URL (expected e.g. "http://127.0.0.1:9200")`,
    );
    expect(messageOf(es('Address = "ftp://a:9200"\nUsername = "u"\nPassword = "p"\n'))).toBe(
      `${FILE}:3: Storage.ES.Address: "ftp://a:9200" must use http or https, got ftp`,
    );
    expect(messageOf(es('Address = "http://a:9200,,"\nUsername = "u"\nPassword = "p"\n'))).toBe(
      `${FILE}:3: Storage.ES.Address: "" is not a URL (expected e.g. "http://127.0.0.1:9200")`,
    );
  });
});

describe("HTTPServer.ListenAddress", () => {
  const listen = (a: string) => `[HTTPServer]\nListenAddress = ${JSON.stringify(a)}\n`;

  test("accepts host:port forms", () => {
    for (const a of [":19704", "0.0.0.0:19704", "127.0.0.1:80", "localhost:19704", "[::1]:19704", "[::]:1"]) {
      expect(parseConfigText(listen(a), FILE).HTTPServer.ListenAddress).toBe(a);
    }
  });

  test("rejects the rest", () => {
    for (const a of ["19704", ":0", ":65536", "host:", "::1:19704", "[zz]:1", "a b:1", ""]) {
      expect(messageOf(listen(a))).toStartWith(`${FILE}:2: HTTPServer.ListenAddress: must be host:port`);
    }
  });
});

describe("IssuesList", () => {
  test("well-formed pairs load", () => {
    const text = '[AutoTracing]\nIssuesList = [\n  ["known_issue1", "softlockup"],\n  ["known_issue2", "alloc_pages.*failed"],\n]\n';
    expect(parseConfigText(text, FILE).AutoTracing.IssuesList).toEqual([
      ["known_issue1", "softlockup"],
      ["known_issue2", "alloc_pages.*failed"],
    ]);
  });

  test("malformed entries", () => {
    const at = (v: string) => messageOf(`[EventTracing]\nIssuesList = ${v}\n`);
    expect(at('[["a", "b", "c"]]')).toBe(`${FILE}:2: EventTracing.IssuesList[0]: must be a ["name", "regex"] pair, got an array of 3`);
    expect(at('[["", "x"]]')).toBe(`${FILE}:2: EventTracing.IssuesList[0]: issue name must not be empty`);
    expect(at('[["a", "x"], ["b", "("]]')).toBe(
      `${FILE}:2: EventTracing.IssuesList[1]: invalid regular expression "(": missing )`,
    );
    expect(at('["a", "x"]')).toBe(`${FILE}:2: EventTracing.IssuesList[0]: must be a ["name", "regex"] pair, got string "a"`);
    expect(at('"a"')).toBe(`${FILE}:2: EventTracing.IssuesList: must be an array of ["name", "regex"] pairs, got string "a"`);
  });
});

describe("CPUIdle filter", () => {
  const rule = (kind: string, body: string) => `[[AutoTracing.CPUIdle.Filter.${kind}]]\n${body}`;

  test("rules load in order", () => {
    const text =
      rule("Excluded", 'Field = "container_qos"\nPattern = "besteffort"\n') +
      rule("Included", 'Field = "container_host_namespace"\nPattern = "^application-"\n') +
      rule("Included", 'Field = "container_hostname"\nPattern = "web"\n');
    const { Filter } = parseConfigText(text, FILE).AutoTracing.CPUIdle;
    expect(Filter.Excluded).toEqual([{ Field: "container_qos", Pattern: "besteffort" }]);
    expect(Filter.Included.map((r) => r.Field)).toEqual(["container_host_namespace", "container_hostname"]);
  });

  test("unknown Field, missing Pattern, bad Pattern", () => {
    const text =
      rule("Included", 'Field = "container_qos"\nPattern = "x"\n') +
      rule("Included", 'Field = "container_name"\nPattern = "x"\n');
    expect(messageOf(text)).toBe(
      `${FILE}:5: AutoTracing.CPUIdle.Filter.Included[1].Field: must be one of container_host_namespace, container_hostname, container_qos, got "container_name"`,
    );
    expect(messageOf(rule("Excluded", 'Field = "container_qos"\n'))).toBe(
      `${FILE}:1: AutoTracing.CPUIdle.Filter.Excluded[0].Pattern: is missing (every entry needs Field and Pattern)`,
    );
    expect(messageOf(rule("Excluded", 'Field = "container_qos"\nPattern = "*"\n'))).toStartWith(
      `${FILE}:3: AutoTracing.CPUIdle.Filter.Excluded[0].Pattern: invalid regular expression "*"`,
    );
  });
});

describe("loadConfigFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "huatuo-config-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test("reads and names the file", () => {
    const path = join(dir, "ok.conf");
    writeFileSync(path, "[Log]\nLevel = \"Warn\"\n");
    expect(loadConfigFile(path).Log.Level).toBe("Warn");
    writeFileSync(path, "[Log]\nLevl = \"Warn\"\n");
    expect(() => loadConfigFile(path)).toThrow(`${path}:2: unknown key Log.Levl (did you mean Level?)`);
  });

  test("missing file", () => {
    const path = join(dir, "absent.conf");
    expect(() => loadConfigFile(path)).toThrow(new ConfigError([{ file: path, text: `${path}: cannot read: no such file` }]));
  });

  test("directory", () => {
    expect(() => loadConfigFile(dir)).toThrow(`${dir}: cannot read: is a directory`);
  });
});

describe("mergeBlackList", () => {
  test("adds comma-separated names once, leaving the input alone", () => {
    const base = defaultConfig();
    const merged = mergeBlackList(base, ["oom,dropwatch", " netdev_hw ", "", "softirq"]);
    expect(merged.BlackList).toEqual(["netdev_hw", "metax_gpu", "oom", "dropwatch", "softirq"]);
    expect(base.BlackList).toEqual(["netdev_hw", "metax_gpu"]);
    expect(merged.Log).toBe(base.Log);
  });

  test("no names is the same list", () => {
    expect(mergeBlackList(defaultConfig(), []).BlackList).toEqual(["netdev_hw", "metax_gpu"]);
  });
});
