// The reference docs stay true: docs/configuration.md and every generated block of docs/*.md are what
// scripts/gen-docs.ts makes of the current source, and every metric family the built agent serves on this machine
// is named in docs/metrics.md (families that need events or hardware are only checked once they appear).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DOCS, groupOf, parseExposition, renderDocs } from "../scripts/gen-docs";
import { registeredTracers } from "../src/framework/registry";
import { FIXTURES, scrape, startDaemon, type DaemonHandle } from "./support/daemon";

const read = (name: string) => readFileSync(join(DOCS, name), "utf8");

describe("generated docs are current (bun scripts/gen-docs.ts rewrites them)", () => {
  for (const [name, text] of renderDocs()) {
    test(`docs/${name}`, () => {
      // line by line, so a failure shows the lines that differ
      expect(read(name).split("\n")).toEqual(text.split("\n"));
    });
  }
});

/** The first column of the family tables of docs/metrics.md: names, and patterns with `<placeholders>`. */
function documentedFamilies(markdown: string): { names: Set<string>; patterns: RegExp[] } {
  const names = new Set<string>();
  const patterns: RegExp[] = [];
  for (const m of markdown.matchAll(/^\| `(huatuo_[^`]+)` \|/gm)) {
    const name = m[1]!;
    if (!name.includes("<")) names.add(name);
    else patterns.push(new RegExp(`^${name.split(/<[^>]+>/).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("\\w+")}$`));
  }
  return { names, patterns };
}

function undocumented(families: Iterable<string>): string[] {
  const { names, patterns } = documentedFamilies(read("metrics.md"));
  return [...families].filter((f) => !names.has(f) && !patterns.some((p) => p.test(f))).sort();
}

test("the family tables of docs/metrics.md parse: names and placeholder patterns", () => {
  const { names, patterns } = documentedFamilies(read("metrics.md"));
  expect(names.has("huatuo_bamai_cpu_util_usr")).toBe(true);
  expect(names.has("huatuo_http_server_requests_total")).toBe(true);
  expect(patterns.some((p) => p.test("huatuo_bamai_netstat_TcpExt_ListenDrops"))).toBe(true);
  // prose like `huatuo_bamai_<tracer>_<name>` is not a table row, so it documents nothing
  expect(patterns.some((p) => p.test("huatuo_bamai_made_up_family"))).toBe(false);
  expect(undocumented(["huatuo_bamai_made_up_family"])).toEqual(["huatuo_bamai_made_up_family"]);
});

test("every tracer has its section: metric collectors in metrics.md, event tracers and detectors in events.md", () => {
  const metrics = read("metrics.md");
  const events = read("events.md");
  const missing = registeredTracers().filter((d) => {
    const heading = new RegExp(`^### ${d.name}$`, "m");
    return !(d.kind === "metric" ? heading.test(metrics) : heading.test(events));
  });
  expect(missing.map((d) => `${d.kind} ${d.name}`)).toEqual([]);
});

test("every family of the fixture golden file is documented", () => {
  const golden = readFileSync(join(FIXTURES, "golden/host-metrics.txt"), "utf8");
  const families = new Set(golden.split("\n").filter(Boolean).map((l) => l.replace(/[{ ].*$/, "")));
  expect(undocumented(families)).toEqual([]);
});

describe("the agent on this kernel, default config", () => {
  let daemon: DaemonHandle;
  let exposed: Map<string, unknown>;

  beforeAll(async () => {
    daemon = await startDaemon({ procfsPrefix: null });
    const first = await scrape(daemon);
    await Bun.sleep(1100); // rate collectors emit from their second sample
    exposed = new Map([...parseExposition(first), ...parseExposition(await scrape(daemon))]);
  });
  afterAll(() => daemon?.stop());

  test("serves families from most tracers (the scrape worked)", () => {
    expect(exposed.size).toBeGreaterThan(100);
    expect(new Set([...exposed.keys()].map(groupOf)).size).toBeGreaterThan(20);
  });

  test("every family it serves is in docs/metrics.md (bun scripts/gen-docs.ts --metrics)", () => {
    expect(undocumented(exposed.keys())).toEqual([]);
  });
});
