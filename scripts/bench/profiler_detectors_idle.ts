// Benchmark: CPU of the built daemon running only the five autotracing detectors (cpusys, cpuidle, dload, iotracing,
// memburst) on their default intervals with nothing to trigger them, with CONTAINERS fake containers (real v1 cgroups
// with a sleeping process each, listed by a fake kubelet) for cpuidle and dload to sample. Prints figures only.
// Usage: WINDOW_S=60 CONTAINERS=20 bun scripts/bench/profiler_detectors_idle.ts
import { spawn } from "bun";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fakeKubelet, KubeNode, podJson, podList, V1_ROOTS } from "../../tests/support/cgroups";
import { BINARY, freePort, workDir } from "../../tests/support/daemon";

const WINDOW_S = Number(process.env.WINDOW_S ?? 60);
const CONTAINERS = Number(process.env.CONTAINERS ?? 20);
const TICKS_PER_S = 100; // USER_HZ

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
}

const AUTOTRACING = new Set(["cpusys", "cpuidle", "dload", "iotracing", "memburst"]);
const node = new KubeNode(V1_ROOTS);
const pods = Array.from({ length: CONTAINERS }, (_, i) => {
  const uid = crypto.randomUUID();
  const c = node.addContainer({ naming: "cgroupfs", qos: "Burstable", podUid: uid, name: `idle${i}` });
  return podJson({ uid, name: `idle-${i}`, namespace: "bench", qos: "Burstable", containers: [c] });
});
const kubelet = fakeKubelet(podList(pods));
const dir = workDir("huatuo-bench-");
const port = freePort();
const conf = join(dir, "huatuo-bamai.conf");
await Bun.write(conf, `[HTTPServer]\nListenAddress = "127.0.0.1:${port}"\n[Pod]\nKubeletReadOnlyPort = ${kubelet.port}\nKubeletAuthorizedPort = 0\n`);

interface TracerStatus {
  name: string;
  kind: string;
  status?: string;
  state?: string;
}

function start(disable: string[]) {
  const args = [BINARY, "run", "--config", conf, "--region", "bench", "--pid-file", join(dir, "pid"), ...(disable.length ? ["--disable-tracing", disable.join(",")] : [])];
  return spawn(args, { cwd: dir, stdout: "ignore", stderr: "ignore" });
}

async function tracers(): Promise<TracerStatus[]> {
  for (let i = 0; i < 300; i++) {
    const body = await fetch(`http://127.0.0.1:${port}/tracers`).then((r) => (r.ok ? (r.json() as Promise<{ data: TracerStatus[] }>) : undefined), () => undefined);
    if (body) return body.data;
    await Bun.sleep(50);
  }
  throw new Error("daemon not ready");
}

// a first start only to learn every tracer's name, so all but the detectors can be disabled
const probe = start([]);
const others = (await tracers()).filter((t) => !AUTOTRACING.has(t.name)).map((t) => t.name);
probe.kill();
await probe.exited;
/** CPU seconds the daemon uses over the window, once a first pod sync and a round of every detector are done. */
async function measure(disable: string[]): Promise<{ used: number; wall: number; rss: number; running: string[] }> {
  const daemon = start(disable);
  try {
    const running = (await tracers()).filter((t) => (t.status ?? t.state) === "running").map((t) => t.name);
    await Bun.sleep(12_000);
    const before = cpuSeconds(daemon.pid);
    const t0 = performance.now();
    await Bun.sleep(WINDOW_S * 1000);
    const used = cpuSeconds(daemon.pid) - before;
    const rss = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${daemon.pid}/status`, "utf8"))![1]) / 1024;
    return { used, wall: (performance.now() - t0) / 1000, rss, running };
  } finally {
    daemon.kill();
    await daemon.exited;
  }
}

const pct = (m: { used: number; wall: number }) => ((m.used / m.wall) * 100).toFixed(3);
try {
  const detectors = await measure(others);
  const bare = await measure([...others, ...AUTOTRACING]);
  console.log(`daemon with only the autotracing detectors running (${detectors.running.join(", ")}), ${CONTAINERS} idle containers`);
  console.log(`  CPU over ${detectors.wall.toFixed(0)} s: ${detectors.used.toFixed(2)} s = ${pct(detectors)}% of one core (goal <= 0.2%), RSS ${detectors.rss.toFixed(0)} MiB`);
  console.log(`  the same daemon with no tracer at all: ${bare.used.toFixed(2)} s = ${pct(bare)}% of one core, RSS ${bare.rss.toFixed(0)} MiB`);
} finally {
  kubelet.stop();
  await node.cleanup();
}
