// Benchmark: CPU of an idle daemon (the built binary, shipped defaults: every eBPF metric on) over 60 s, and the time
// the kernel spent in our metric programs meanwhile (kernel.bpf_stats_enabled=1). Prints figures only.
import { spawn } from "bun";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { iolatencyBpf } from "../../src/metrics/iolatency";
import { memoryFreeBpf } from "../../src/metrics/memory_free";
import { memoryReclaimBpf } from "../../src/metrics/memory_reclaim";
import { runqlatSpec } from "../../src/metrics/runqlat";
import { softirqBpf } from "../../src/metrics/softirq";

const REPO = resolve(import.meta.dir, "../..");
const WINDOW_S = Number(process.env.WINDOW_S ?? 60);
const SCRAPE_EVERY_S = 15;
const STATS = "/proc/sys/kernel/bpf_stats_enabled";
const TICKS_PER_S = 100; // USER_HZ
const BPF_OBJ_NAME_LEN = 15; // the kernel keeps 15 characters of a program's name

/** The programs our metric tracers attach here (BTF tracepoints), as bpftool shows their names. */
const OUR_PROGRAMS = new Set(
  [softirqBpf, memoryFreeBpf, memoryReclaimBpf, iolatencyBpf, runqlatSpec(true)]
    .flatMap((spec) => spec.hooks.flatMap((h) => h.candidates.filter((c) => c.kind === "tp_btf")))
    .map((c) => c.program.slice(0, BPF_OBJ_NAME_LEN)),
);

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S; // utime, stime
}

/** Kernel time in our programs, by program id (ids loaded before the daemon are excluded). */
function bpfRunTimeNs(exclude: Set<number>): number {
  const progs = JSON.parse(Bun.spawnSync(["bpftool", "prog", "show", "-j"], { stdout: "pipe" }).stdout.toString() || "[]");
  return progs
    .filter((p: { id: number; name?: string }) => !exclude.has(p.id) && OUR_PROGRAMS.has(p.name ?? ""))
    .reduce((sum: number, p: { run_time_ns?: number }) => sum + (p.run_time_ns ?? 0), 0);
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(50);
  }
  throw new Error("daemon not ready");
}

/** CPU % of one core and kernel BPF ms/s over one window, scraping every `scrapeEvery` seconds (0: never). */
async function window(pid: number, url: string, known: Set<number>, scrapeEvery: number): Promise<[number, number]> {
  const [cpu0, bpf0, t0] = [cpuSeconds(pid), bpfRunTimeNs(known), performance.now()];
  for (let s = 0; s < WINDOW_S; s += scrapeEvery || WINDOW_S) {
    if (scrapeEvery) await fetch(url).then((r) => r.text());
    await Bun.sleep((scrapeEvery || WINDOW_S) * 1000);
  }
  const seconds = (performance.now() - t0) / 1000;
  return [((cpuSeconds(pid) - cpu0) / seconds) * 100, (bpfRunTimeNs(known) - bpf0) / 1e6 / seconds];
}

const METRIC_TRACERS = ["runqlat", "softirq", "memory_free", "memory_reclaim", "iolatency"];

interface Daemon {
  pid: number;
  url: string;
  tracers: Array<{ name: string; status: string; hook: string }>;
  stop(): Promise<void>;
}

async function startDaemon(blackList: string[]): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), "bench-idle-"));
  const port = 19600 + Math.floor(Math.random() * 100);
  const conf = `BlackList = ${JSON.stringify(blackList)}\n[HTTPServer]\nListenAddress = "127.0.0.1:${port}"\n[Log]\nLevel = "Warn"\n`;
  writeFileSync(join(dir, "c.conf"), conf);
  const args = ["run", "--region", "bench", "--config", join(dir, "c.conf"), "--pid-file", join(dir, "pid"), "--disable-kubelet"];
  const proc = spawn([join(REPO, "dist/huatuo-bamai"), ...args], { cwd: dir, stdout: "ignore", stderr: "ignore" });
  const url = `http://127.0.0.1:${port}/metrics`;
  await waitReady(url);
  const { data } = (await (await fetch(`http://127.0.0.1:${port}/tracers`)).json()) as { data: Daemon["tracers"] };
  const stop = async () => {
    proc.kill();
    await proc.exited;
    rmSync(dir, { recursive: true, force: true });
  };
  return { pid: proc.pid, url, tracers: data, stop };
}

const running = (d: Daemon) => d.tracers.filter((t) => t.status === "running").map((t) => t.name);

async function measure(title: string, blackList: string[], scraped: boolean): Promise<string[]> {
  const known = new Set<number>(JSON.parse(Bun.spawnSync(["bpftool", "prog", "show", "-j"], { stdout: "pipe" }).stdout.toString() || "[]").map((p: { id: number }) => p.id));
  const d = await startDaemon(blackList);
  try {
    console.log(`\n${title}: running ${running(d).join(", ")}`);
    await Bun.sleep(5000);
    const [idleCpu, idleBpf] = await window(d.pid, d.url, known, 0);
    console.log(`  no scrapes:          daemon ${idleCpu.toFixed(2)}% of one core; metric programs in kernel ${idleBpf.toFixed(2)} ms/s`);
    if (scraped) {
      const [cpu, bpfMs] = await window(d.pid, d.url, known, SCRAPE_EVERY_S);
      console.log(`  scraped every ${SCRAPE_EVERY_S} s: daemon ${cpu.toFixed(2)}% of one core; metric programs in kernel ${bpfMs.toFixed(2)} ms/s`);
    }
    return d.tracers.map((t) => t.name);
  } finally {
    await d.stop();
  }
}

const previous = readFileSync(STATS, "utf8").trim();
writeFileSync(STATS, "1");
try {
  console.log(`idle daemon CPU over ${WINDOW_S} s windows after a 5 s warm-up (goal <= 0.5% of one core)`);
  const all = await measure("shipped defaults (every tracer)", ["netdev_hw", "metax_gpu"], true);
  await measure("the eBPF metrics alone", all.filter((name) => !METRIC_TRACERS.includes(name)), true);
} finally {
  writeFileSync(STATS, previous);
}
