// Host metrics from the built binary against the fixture root: golden series, filters, promtool, missing sources.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FIXTURES, scrape, seriesLines, startDaemon, workDir, type DaemonHandle } from "./support/daemon";

const GOLDEN = join(FIXTURES, "golden/host-metrics.txt");
const DEVIATIONS = join(FIXTURES, "golden/promtool-deviations.txt");
// Values that depend on time, on this process or on live events rather than on the fixture files.
// Storage and watch counters count live kernel events.
const VOLATILE_SELF = /^huatuo_bamai_(scrape_collector_duration_seconds|process_|tracer_up|storage_|events_watch_)/;

/**
 * Tracers that read the live kernel (BPF, netlink, kmsg) cannot be pinned by --procfs-prefix: their series are
 * left out of the golden comparison. Only procfs/sysfs collectors are compared.
 */
async function liveSeriesPattern(daemon: DaemonHandle): Promise<RegExp> {
  const { data } = (await (await fetch(daemon.url("/tracers"))).json()) as { data: Array<{ name: string; hook: string }> };
  const live = data.filter((t) => t.hook !== "procfs" && t.hook !== "sysfs").map((t) => t.name);
  const names = live.join("|") || "$^";
  return new RegExp(`^huatuo_bamai_(${names})_|collector="(${names})"`);
}

function normalise(lines: string[], live: RegExp): string[] {
  return lines
    .filter((l) => !VOLATILE_SELF.test(l) && !live.test(l))
    .map((l) => l.replace(/host="[^"]*"/, 'host="HOST"'))
    .sort();
}

describe("fixture root", () => {
  let daemon: DaemonHandle;
  let exposition: string;
  let live: RegExp;

  beforeAll(async () => {
    daemon = await startDaemon({ procfsPrefix: FIXTURES });
    await scrape(daemon);
    await Bun.sleep(1100); // rate-type collectors (cpu_util, diskio) need two samples a second apart
    exposition = await scrape(daemon);
    live = await liveSeriesPattern(daemon);
  });
  afterAll(() => daemon.stop());

  test("every series matches the golden file", () => {
    const actual = normalise(seriesLines(exposition), live);
    if (process.env.UPDATE_GOLDEN) {
      mkdirSync(join(FIXTURES, "golden"), { recursive: true });
      writeFileSync(GOLDEN, actual.join("\n") + "\n");
    }
    expect(actual).toEqual(readFileSync(GOLDEN, "utf8").trim().split("\n"));
  });

  test("every collector succeeded", () => {
    const failed = seriesLines(exposition, "huatuo_bamai_scrape_collector_success").filter((l) => l.endsWith(" 0"));
    expect(failed).toEqual([]);
  });

  test("promtool check metrics finds nothing but documented deviations", async () => {
    const proc = Bun.spawn(["promtool", "check", "metrics"], { stdin: new Blob([exposition]), stdout: "pipe", stderr: "pipe" });
    const report = (await new Response(proc.stdout).text()) + (await new Response(proc.stderr).text());
    await proc.exited;
    const allowed = readFileSync(DEVIATIONS, "utf8")
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => new RegExp(l));
    const problems = report.split("\n").filter((l) => l.trim() && !allowed.some((re) => re.test(l)));
    expect(problems).toEqual([]);
  });
});

describe("filters from the config", () => {
  test("include/exclude regexes shape netdev, vmstat and mountpoint series", async () => {
    const daemon = await startDaemon({
      procfsPrefix: FIXTURES,
      config: [
        "[MetricCollector.NetdevStats]",
        'DeviceIncluded = "^eth"',
        'DeviceExcluded = "eth1"',
        "[MetricCollector.Vmstat]",
        'IncludedOnHost = "^nr_dirty"',
        'ExcludedOnHost = "threshold"',
        "[MetricCollector.MountPointStat]",
        'MountPointsIncluded = "^/boot$"',
      ].join("\n"),
    });
    const text = await scrape(daemon);
    await daemon.stop();
    const devices = new Set(seriesLines(text, "huatuo_bamai_netdev_").map((l) => /device="([^"]+)"/.exec(l)?.[1]));
    expect([...devices]).toEqual(["eth0"]);
    const vmstat = seriesLines(text, "huatuo_bamai_memory_vmstat_").map((l) => l.split("{")[0]);
    expect(vmstat).toEqual(["huatuo_bamai_memory_vmstat_nr_dirty"]);
    const mounts = seriesLines(text, "huatuo_bamai_mountpoint_perm_").map((l) => /mountpoint="([^"]+)"/.exec(l)?.[1]);
    expect(mounts).toEqual(["/boot"]);
  });
});

describe("missing sources", () => {
  test("an empty root fails collectors one by one while /metrics keeps serving", async () => {
    const empty = workDir("empty-root-");
    const daemon = await startDaemon({ procfsPrefix: empty });
    const res = await fetch(daemon.url("/metrics"));
    const text = await res.text();
    await daemon.stop();
    expect(res.status).toBe(200);
    expect(text).toMatch(/huatuo_bamai_scrape_collector_success\{[^}]*collector="loadavg"[^}]*\} 0/);
    expect(text).toContain("huatuo_bamai_process_resident_memory_bytes");
  });
});

