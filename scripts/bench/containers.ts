// Benchmark (issue 4): /metrics latency, size and RSS of the built binary with 10, 100 and 500 fake containers that
// are real cgroup v1 cgroups (kubelet cgroupfs layout), listed by a fake kubelet on loopback. Prints figures only.
import { spawn, type Subprocess } from "bun";
import { mkdtempSync, readFileSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { containerPath, fakeKubelet, mkdirCgroups, podJson, podList, randomId, V1_ROOTS, type FakeContainer, type FakePod, type Qos } from "../../tests/support/cgroups";

const REPO = resolve(import.meta.dir, "../..");
/** `BINARY=/path bun scripts/bench/containers.ts` compares another build. */
const BINARY = process.env.BINARY ?? join(REPO, "dist/huatuo-bamai");
/** Sizes from the command line (`containers.ts 500`), else the three. */
const SIZES = process.argv.slice(2).filter((a) => /^\d+$/.test(a)).map(Number);
if (SIZES.length === 0) SIZES.push(10, 100, 500);
const SCRAPES = 50;
const WARMUP = 3;
const QOS: Qos[] = ["Guaranteed", "Burstable", "BestEffort"];
/** `--netns`: each pod's process in its own network namespace (as in Kubernetes) instead of the host's. */
const OWN_NETNS = process.argv.includes("--netns");

/** Kubelet-style cgroups with one sleeping process each; cleanup removes only what it created, newest first. */
class BenchNode {
  readonly pods: FakePod[] = [];
  private readonly dirs: string[] = [];
  private readonly procs: Subprocess[] = [];

  addPod(): void {
    const uid = crypto.randomUUID();
    const qos = QOS[this.pods.length % QOS.length]!;
    const id = randomId();
    const path = containerPath("cgroupfs", qos, uid, id, "containerd");
    for (const root of V1_ROOTS) mkdirCgroups(root, path, this.dirs);
    const cmd = OWN_NETNS ? ["unshare", "--net", "sleep", "3600"] : ["sleep", "3600"];
    const proc = spawn(cmd, { stdin: "ignore", stdout: "ignore", stderr: "ignore" });
    this.procs.push(proc);
    for (const root of V1_ROOTS) writeFileSync(join(root, path, "cgroup.procs"), String(proc.pid));
    const c: FakeContainer = { id, name: "app", runtime: "containerd", path, proc, pid: proc.pid };
    this.pods.push({ uid, name: `bench-${this.pods.length}`, namespace: "bench", qos, containers: [c] });
  }

  /** Never throws: a shared parent (kubepods) that a concurrent test still uses is left to its other owner. */
  async cleanup(): Promise<void> {
    for (const p of this.procs) p.kill("SIGKILL");
    await Promise.all(this.procs.splice(0).map((p) => p.exited));
    const left = this.dirs.splice(0).reverse().filter((dir) => !removeDir(dir));
    if (left.length) console.error(`left ${left.length} cgroup directories in use by others, e.g. ${left[0]}`);
  }
}

/** A cgroup whose last task just died reports EBUSY for a moment; ENOTEMPTY means someone else's child is inside. */
function removeDir(dir: string): boolean {
  for (let i = 0; i < 100; i++) {
    try {
      rmdirSync(dir);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return true;
      if (code !== "EBUSY") return false;
      Bun.sleepSync(20);
    }
  }
  return false;
}

interface Daemon {
  proc: Subprocess;
  url: (path: string) => string;
  dir: string;
}

function startDaemon(kubeletPort: number, port: number): Daemon {
  const dir = mkdtempSync(join(tmpdir(), "bench-containers-"));
  const config = `[HTTPServer]\nListenAddress = "127.0.0.1:${port}"\n[Log]\nLevel = "Warn"\n` +
    `[Pod]\nKubeletReadOnlyPort = ${kubeletPort}\nKubeletAuthorizedPort = 0\n`;
  writeFileSync(join(dir, "c.conf"), config);
  const proc = spawn([BINARY, "run", "--region", "bench", "--config", join(dir, "c.conf"),
    "--pid-file", join(dir, "p.pid"), "--disable-storage"], { cwd: dir, stdin: "ignore", stdout: "ignore", stderr: "inherit" });
  return { proc, dir, url: (path) => `http://127.0.0.1:${port}${path}` };
}

/** Until the daemon serves and its first pod sync lists all `n` containers. */
async function waitContainers(d: Daemon, n: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (d.proc.exitCode !== null) throw new Error(`daemon exited with ${d.proc.exitCode}`);
    try {
      const body = (await (await fetch(d.url("/containers/json"))).json()) as { data: unknown[] };
      if (body.data.length === n) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(100);
  }
  throw new Error(`daemon never listed ${n} containers`);
}

/** User+system CPU seconds of `pid` so far: under a noisy load, CPU per scrape varies less than latency. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function rssMiB(pid: number): number {
  return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

interface Row {
  n: number;
  p50: number;
  p99: number;
  bytes: number;
  series: number;
  cpuMs: number;
  rss: number;
  /** A second after the last scrape: what the node sees between scrapes. */
  idleRss: number;
}

/**
 * One /metrics response as Prometheus receives it (gzip), timed to its last byte: the agent's latency, without this
 * client's own decompression of up to 25 MB. Anything but 200 (the per-client rate limit) would spoil the figures.
 */
async function scrape(d: Daemon): Promise<Uint8Array<ArrayBuffer>> {
  const res = await fetch(d.url("/metrics"), { headers: { "accept-encoding": "gzip" }, decompress: false });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return new Uint8Array(await res.arrayBuffer());
}

async function measure(d: Daemon, n: number): Promise<Row> {
  let body = new Uint8Array(0);
  for (let i = 0; i < WARMUP; i++) body = await scrape(d);
  const times: number[] = [];
  const cpu0 = cpuSeconds(d.proc.pid);
  for (let i = 0; i < SCRAPES; i++) {
    const t0 = performance.now();
    body = await scrape(d);
    times.push(performance.now() - t0);
  }
  const cpuMs = ((cpuSeconds(d.proc.pid) - cpu0) * 1000) / SCRAPES;
  times.sort((a, b) => a - b);
  const text = new TextDecoder().decode(Bun.gunzipSync(body));
  const series = text.split("\n").filter((l) => l && !l.startsWith("#")).length;
  const rss = rssMiB(d.proc.pid);
  await Bun.sleep(1000);
  return { n, p50: percentile(times, 50), p99: percentile(times, 99), bytes: text.length, series, cpuMs, rss, idleRss: rssMiB(d.proc.pid) };
}

/** The daemon being measured, stopped by whoever comes first: its size's end or an interrupt. */
let daemon: Daemon | undefined;

async function stopDaemon(): Promise<void> {
  const d = daemon;
  daemon = undefined;
  if (!d) return;
  d.proc.kill("SIGTERM");
  await d.proc.exited;
  rmSync(d.dir, { recursive: true, force: true });
}

/** A fresh daemon per size, so its RSS is that size's alone. */
async function runSize(node: BenchNode, kubelet: ReturnType<typeof fakeKubelet>, n: number, port: number): Promise<Row> {
  while (node.pods.length < n) node.addPod();
  kubelet.respond = podList(node.pods.map(podJson));
  const d = (daemon = startDaemon(kubelet.port, port));
  try {
    await waitContainers(d, n);
    return await measure(d, n);
  } finally {
    await stopDaemon();
  }
}

function printTable(rows: Row[]): void {
  console.log("| containers | p50 ms | p99 ms | bytes | series | CPU ms/scrape | RSS MiB | idle RSS MiB |");
  console.log("|---:|---:|---:|---:|---:|---:|---:|---:|");
  for (const r of rows) {
    const cells = [r.n, r.p50.toFixed(1), r.p99.toFixed(1), r.bytes, r.series, r.cpuMs.toFixed(1), r.rss.toFixed(1), r.idleRss.toFixed(1)];
    console.log(`| ${cells.join(" | ")} |`);
  }
  if (rows.length < 2) return;
  const [first, last] = [rows[0]!, rows[rows.length - 1]!];
  const per = (a: number, b: number) => (b - a) / (last.n - first.n);
  console.log(`\nper container (${first.n} → ${last.n}): p50 ${per(first.p50, last.p50).toFixed(2)} ms, ` +
    `p99 ${per(first.p99, last.p99).toFixed(2)} ms, CPU ${per(first.cpuMs, last.cpuMs).toFixed(2)} ms, ` +
    `${per(first.bytes, last.bytes).toFixed(0)} bytes, ` +
    `${per(first.series, last.series).toFixed(0)} series, ${(per(first.rss, last.rss) * 1024).toFixed(0)} KiB RSS`);
}

const node = new BenchNode();
const kubelet = fakeKubelet(podList([]));
const cleanUp = async () => {
  await stopDaemon();
  kubelet.stop();
  await node.cleanup();
};
let interrupted = false;
const interrupt = () => {
  interrupted = true;
  void cleanUp().then(() => process.exit(130));
};
process.on("SIGINT", interrupt);
process.on("SIGTERM", interrupt);
try {
  const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
  console.log(`containers benchmark: ${SCRAPES} sequential scrapes per size after ${WARMUP} warm-up, cgroup v1, ` +
    `${OWN_NETNS ? "one network namespace per pod" : "all in the host network namespace"}; load ${load()}`);
  const rows: Row[] = [];
  for (const [i, n] of SIZES.entries()) rows.push(await runSize(node, kubelet, n, 19970 + i));
  printTable(rows);
  console.log(`load at end ${load()}`);
} catch (err) {
  // An interrupt stops the daemon under a scrape; that scrape's failure is not news.
  if (!interrupted) throw err;
} finally {
  await cleanUp();
}
