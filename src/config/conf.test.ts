// Checks the shipped huatuo-bamai.conf against the schema: it loads, documents every key, and every
// commented-out setting shows the real default.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import TOML from "@iarna/toml";
import { scanKeyLines } from "./lines";
import { loadConfigFile, parseConfigText } from "./load";
import { defaultConfig, listConfigKeys } from "./schema";

const CONF = join(import.meta.dir, "../../huatuo-bamai.conf");
const text = readFileSync(CONF, "utf8");
const lines = text.split("\n");

/** A commented-out setting is "# Key = value" or "# [Header]" at column 0; indented ones are examples. */
const SETTING = /^# (?=\S)(\[.*\]|[A-Za-z][\w.]*\s*=.*)$/;
const uncommented = lines.map((l) => l.match(SETTING)?.[1] ?? l).join("\n");
const scanned = scanKeyLines(uncommented);
const normalise = (path: string) => path.replace(/\[\d+\]/g, "[]");
const keys = listConfigKeys();
const schemaPaths = new Set(keys.map((k) => k.path));

/** Line number → the key path written on it (the longest path recorded for that line). */
const keyOnLine = new Map<number, string>();
for (const [path, line] of scanned) {
  if ((keyOnLine.get(line) ?? "").length < path.length) keyOnLine.set(line, path);
}

describe("huatuo-bamai.conf", () => {
  test("loads with no errors, at the defaults except the seed's example settings", () => {
    const expected = defaultConfig();
    expected.EventTracing.Netdev.DeviceList = ["eth0", "eth1", "bond4", "lo"];
    expected.MetricCollector.NetdevDCB.DeviceList = ["eth0", "eth1"];
    expected.MetricCollector.NetdevHW.DeviceList = ["eth0", "eth1"];
    expect(loadConfigFile(CONF)).toEqual(expected);
  });

  test("also loads with every commented-out setting uncommented", () => {
    const config = parseConfigText(uncommented, "uncommented.conf");
    expect(config.AutoTracing.CPUIdle.Filter.Included).toEqual([
      { Field: "container_host_namespace", Pattern: "^application-" },
    ]);
  });

  test("every schema key appears in it, commented or not", () => {
    const present = new Set([...scanned.keys()].map(normalise));
    expect([...schemaPaths].filter((p) => !present.has(p))).toEqual([]);
  });

  test("every key in it is in the schema", () => {
    const known = new Set([...schemaPaths].flatMap((p) => prefixes(p)));
    expect([...scanned.keys()].map(normalise).filter((p) => !known.has(p))).toEqual([]);
  });

  test("every commented-out setting shows the schema default", () => {
    const defaults = new Map(keys.map((k) => [k.path, k.default]));
    let checked = 0;
    lines.forEach((line, i) => {
      const setting = line.match(SETTING)?.[1];
      const path = keyOnLine.get(i + 1);
      if (!setting || setting.startsWith("[") || !path || !defaults.has(path)) return;
      const value = TOML.parse(`v = ${setting.slice(setting.indexOf("=") + 1)}`).v;
      expect({ path, value }).toEqual({ path, value: defaults.get(path) as never });
      checked++;
    });
    expect(checked).toBeGreaterThan(60);
  });

  test("every key is documented by a '# - Key' entry in the comment block above it", () => {
    const headers = [...uncommented.split("\n").entries()].filter(([, l]) => l.startsWith("[")).map(([i]) => i + 1);
    for (const key of keys.filter((k) => !k.path.includes("[]"))) {
      const line = scanned.get(key.path)!;
      const own = Math.max(0, ...headers.filter((h) => h < line));
      const previous = Math.max(0, ...headers.filter((h) => h < own));
      const name = key.path.split(".").pop()!;
      const block = lines.slice(previous, line - 1);
      const documented = block.some((l) => l.startsWith("# - ") && new RegExp(`\\b${name}\\b`).test(l));
      expect({ key: key.path, documented }).toEqual({ key: key.path, documented: true });
    }
  });
});

function prefixes(path: string): string[] {
  const parts = path.split(".");
  return parts.map((_, i) => parts.slice(0, i + 1).join("."));
}
