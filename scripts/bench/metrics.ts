// Benchmark: /metrics latency and size of huatuo-bamai vs prometheus-node-exporter on this host, in the same run;
// startup time from exec to the first successful scrape; RSS after 100 scrapes, at once and once settled (the daemon
// pages out what only startup used 30 s after it is ready). Prints figures, asserts nothing.
import { spawn } from "bun";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const REPO = resolve(import.meta.dir, "../..");
const SCRAPES = 200;
/** Past the daemon's settle time (30 s after ready), when it releases the pages only startup used. */
const SETTLE_MS = 35_000;

interface Target {
  name: string;
  url: string;
  pid: number;
  stop(): void;
}

async function waitFirstScrape(url: string, timeoutMs = 20_000): Promise<number> {
  const started = performance.now();
  while (performance.now() - started < timeoutMs) {
    try {
      if ((await fetch(url)).status === 200) return performance.now() - started;
    } catch {
      // not up yet
    }
    await Bun.sleep(5);
  }
  throw new Error(`${url} not ready`);
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function startOurs(port: number): Promise<{ target: Target; readyMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), "bench-"));
  writeFileSync(join(dir, "c.conf"), `[HTTPServer]\nListenAddress = "127.0.0.1:${port}"\n[Log]\nLevel = "Warn"\n`);
  const started = performance.now();
  const proc = spawn([join(REPO, "dist/huatuo-bamai"), "run", "--region", "bench", "--config", join(dir, "c.conf"),
    "--pid-file", join(dir, "p.pid"), "--disable-kubelet", "--disable-storage"], { cwd: dir, stdout: "ignore", stderr: "ignore" });
  const url = `http://127.0.0.1:${port}/metrics`;
  await waitFirstScrape(url);
  return { target: { name: "huatuo-bamai", url, pid: proc.pid, stop: () => proc.kill() }, readyMs: performance.now() - started };
}

async function startNodeExporter(port: number): Promise<{ target: Target; readyMs: number }> {
  const started = performance.now();
  const proc = spawn(["prometheus-node-exporter", `--web.listen-address=127.0.0.1:${port}`], { stdout: "ignore", stderr: "ignore" });
  const url = `http://127.0.0.1:${port}/metrics`;
  await waitFirstScrape(url);
  return { target: { name: "node_exporter", url, pid: proc.pid, stop: () => proc.kill() }, readyMs: performance.now() - started };
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

interface Measured {
  p50: number;
  p99: number;
  bytes: number;
  series: number;
  rssAfter100: number;
}

async function measure(target: Target): Promise<Measured> {
  const times: number[] = [];
  let text = "";
  let rssAfter100 = 0;
  for (let i = 0; i < SCRAPES; i++) {
    const t0 = performance.now();
    text = await (await fetch(target.url)).text();
    times.push(performance.now() - t0);
    if (i === 99) rssAfter100 = rssMiB(target.pid);
  }
  times.sort((a, b) => a - b);
  const series = text.split("\n").filter((l) => l && !l.startsWith("#")).length;
  return { p50: percentile(times, 50), p99: percentile(times, 99), bytes: text.length, series, rssAfter100 };
}

/**
 * RSS once the process has run for SETTLE_MS: right after 100 more back-to-back scrapes (a burst's garbage is still
 * held), and a second later (what a scraper every few seconds sees).
 */
async function settledRss(target: Target, startedAt: number): Promise<[number, number]> {
  await Bun.sleep(Math.max(0, startedAt + SETTLE_MS - performance.now()));
  for (let i = 0; i < 100; i++) await (await fetch(target.url)).text();
  const burst = rssMiB(target.pid);
  await Bun.sleep(1_000);
  return [burst, rssMiB(target.pid)];
}

const startedAt = performance.now();
const ours = await startOurs(19990);
const peer = await startNodeExporter(19991);
try {
  const a = await measure(ours.target);
  const b = await measure(peer.target);
  const [settledA, settledB] = await Promise.all([settledRss(ours.target, startedAt), settledRss(peer.target, startedAt)]);
  const rows = [
    ["", "huatuo-bamai", "node_exporter", "ratio"],
    ["p50 ms", a.p50.toFixed(2), b.p50.toFixed(2), (a.p50 / b.p50).toFixed(2)],
    ["p99 ms", a.p99.toFixed(2), b.p99.toFixed(2), (a.p99 / b.p99).toFixed(2)],
    ["bytes", String(a.bytes), String(b.bytes), (a.bytes / b.bytes).toFixed(2)],
    ["series", String(a.series), String(b.series), (a.series / b.series).toFixed(2)],
    ["ready ms", ours.readyMs.toFixed(0), peer.readyMs.toFixed(0), (ours.readyMs / peer.readyMs).toFixed(2)],
    ["RSS MiB after 100 scrapes", a.rssAfter100.toFixed(1), b.rssAfter100.toFixed(1), (a.rssAfter100 / b.rssAfter100).toFixed(2)],
    ["RSS MiB settled, 100 more", settledA[0].toFixed(1), settledB[0].toFixed(1), (settledA[0] / settledB[0]).toFixed(2)],
    ["RSS MiB settled, 1 s later", settledA[1].toFixed(1), settledB[1].toFixed(1), (settledA[1] / settledB[1]).toFixed(2)],
  ];
  console.log(`/metrics benchmark, ${SCRAPES} sequential scrapes each, same host, same run`);
  for (const row of rows) console.log(row.map((c, i) => (i === 0 ? c.padEnd(28) : c.padStart(14))).join(""));
} finally {
  ours.target.stop();
  peer.target.stop();
}
