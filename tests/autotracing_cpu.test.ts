// cpusys and cpuidle from the built daemon on the real kernel, with low thresholds: a sys-heavy load on the host is
// caught with its kernel function in the flame graph; a CPU burner in one fake container (cgroup v1, fake kubelet)
// gets a flame graph of that container only. `trace cpuidle` takes the same container-scoped capture by hand.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, type Subprocess } from "bun";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { renamedBinary } from "../src/autotracing/testing";
import type { FlameFrame } from "../src/profiler/flame";
import type { Document } from "../src/storage/document";
import { buildBpf, isRoot, rootOnly } from "./support/bpf_helpers";
import { fakeKubelet, KubeNode, podJson, podList, V1_ROOTS, type FakeContainer, type FakeKubelet } from "./support/cgroups";
import { runBinary, scrape, startDaemon, workDir, type DaemonHandle } from "./support/daemon";

const HOT = /^read_(iter_)?zero$/;
let zero: ReturnType<typeof renamedBinary>;
beforeAll(() => {
  buildBpf();
  zero = renamedBinary("/bin/dd", "hbsys");
});
afterAll(() => zero.remove());

/** The first stored document of `tracer` in the daemon's local storage, waiting up to `timeoutMs`. */
async function firstDocument(d: DaemonHandle, tracer: string, timeoutMs: number): Promise<Document> {
  const file = join(d.dir, "huatuo-local", tracer);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const line = existsSync(file) ? readFileSync(file, "utf8").split("\n").find(Boolean) : undefined;
    if (line) return JSON.parse(line) as Document;
    await Bun.sleep(200);
  }
  throw new Error(`no ${tracer} document within ${timeoutMs} ms:\n${(await d.stop(), await d.output()).slice(-3000)}`);
}

const flame = (doc: Document) => doc.tracer_data.flamedata as FlameFrame[];
const processes = (doc: Document) => flame(doc).filter((f) => f.level === 1).sort((a, b) => b.value - a.value);

/** The frames below a process's node in depth-first flamedata. */
function subtree(frames: FlameFrame[], label: string): FlameFrame[] {
  const at = frames.findIndex((f) => f.level === 1 && f.label === label);
  const end = frames.findIndex((f, i) => i > at && f.level <= 1);
  return at < 0 ? [] : frames.slice(at + 1, end < 0 ? undefined : end);
}

describe.skipIf(!isRoot)(rootOnly("cpusys from the daemon"), () => {
  let d: DaemonHandle | undefined;
  const loads: Subprocess[] = [];
  afterAll(async () => {
    for (const p of loads) p.kill();
    await d?.stop();
  }, 30_000);

  test("a sys-heavy load triggers a host flame graph whose hottest process and kernel function are the load's", async () => {
    d = await startDaemon({
      procfsPrefix: null,
      config: "[AutoTracing.CPUSys]\nSysThreshold = 30\nDeltaSysThreshold = 10\nInterval = 1\nRunTracingToolTimeout = 2\n",
    });
    await Bun.sleep(2200); // a baseline and one quiet window
    for (let i = 0; i < 2; i++) loads.push(spawn([zero.path, "if=/dev/zero", "of=/dev/null", "bs=1M"], { stdout: "ignore", stderr: "ignore" }));
    const doc = await firstDocument(d, "cpusys", 10_000);
    for (const p of loads) p.kill();
    expect(doc.tracer_type).toBe("autotracing");
    expect(doc.tracer_data.now_sys as number).toBeGreaterThan(30);
    expect(doc.tracer_data).toMatchObject({ sys_threshold: 30, deltasys_threshold: 10 });
    expect(doc.tracer_data.deltasys as number).toBeGreaterThan(10);
    expect(flame(doc)[0]).toMatchObject({ level: 0, label: "all" });
    // other suites share this host: the load need not be alone, but it is a large part and its own hottest frame
    // is the kernel function it drives
    const load = processes(doc).find((f) => f.label === "hbsys")!;
    expect(load.value / flame(doc)[0]!.value).toBeGreaterThan(0.2);
    const hottest = subtree(flame(doc), "hbsys").sort((a, b) => b.self - a.self)[0]!;
    expect(hottest.label).toMatch(HOT);
    const metrics = await scrape(d);
    expect(metrics).toMatch(/huatuo_bamai_cpusys_captures_total\{[^}]*\} 1\b/);
    expect(metrics).toMatch(/huatuo_bamai_cpusys_capture_seconds_total\{[^}]*\} [1-9]/);
  }, 30_000);
});

describe.skipIf(!isRoot)(rootOnly("cpuidle for one container"), () => {
  const node = new KubeNode(V1_ROOTS);
  let kubelet: FakeKubelet | undefined;
  let d: DaemonHandle | undefined;
  let burner: Subprocess | undefined;
  const [u1, u2] = [crypto.randomUUID(), crypto.randomUUID()];
  let hot: FakeContainer;
  let cold: FakeContainer;
  const pod = (uid: string, name: string, c: FakeContainer) => podJson({ uid, name, namespace: "load", qos: "Burstable", containers: [c] });

  beforeAll(() => {
    hot = node.addContainer({ naming: "cgroupfs", qos: "Burstable", podUid: u1, name: "hot", cmd: ["sleep", "600"] });
    cold = node.addContainer({ naming: "systemd", qos: "Burstable", podUid: u2, name: "cold", cmd: ["sleep", "600"] });
  });

  afterAll(async () => {
    burner?.kill();
    await d?.stop();
    kubelet?.stop();
    await node.cleanup();
  });

  /** Starts burning CPU inside the container: a shell loop moved into its cgroups. */
  function burnIn(path: string): Subprocess {
    const p = spawn(["sh", "-c", "while :; do :; done"], { stdout: "ignore", stderr: "ignore" });
    for (const root of V1_ROOTS) writeFileSync(join(root, path, "cgroup.procs"), String(p.pid));
    return p;
  }

  test("the burning container gets a flame graph of its own processes; the idle one nothing", async () => {
    kubelet = fakeKubelet(podList([pod(u1, "hot-0", hot), pod(u2, "cold-0", cold)]));
    d = await startDaemon({
      procfsPrefix: null,
      kubelet: true,
      config: `[Pod]\nKubeletReadOnlyPort = ${kubelet.port}\nKubeletAuthorizedPort = 0\n` +
        "[AutoTracing.CPUIdle]\nUserThreshold = 100\nSysThreshold = 100\nUsageThreshold = 20\nDeltaUsageThreshold = 15\nInterval = 1\nRunTracingToolTimeout = 2\n",
    });
    for (let i = 0; i < 50 && ((await (await fetch(d.url("/containers/json"))).json()) as unknown[]).length < 2; i++) await Bun.sleep(100);
    await Bun.sleep(2200); // every container sampled twice: a baseline and a quiet reading
    burner = burnIn(hot.path);
    const doc = await firstDocument(d, "cpuidle", 10_000);
    expect(doc.container_id).toBe(hot.id);
    expect(doc.container_hostname).toBe("hot-0");
    expect(doc.tracer_data.usage as number).toBeGreaterThan(20);
    expect(doc.tracer_data.deltausage as number).toBeGreaterThan(15);
    expect(processes(doc).map((f) => f.label)).toEqual(["sh"]);
    burner.kill();
  }, 30_000);

  test("trace cpuidle --container samples that container only and prints the document with --output json", async () => {
    burner = burnIn(hot.path);
    const dir = workDir();
    const conf = join(dir, "huatuo-bamai.conf");
    writeFileSync(conf, `[Pod]\nKubeletReadOnlyPort = ${kubelet!.port}\nKubeletAuthorizedPort = 0\n`);
    const r = await runBinary(["trace", "cpuidle", "--container", hot.id.slice(0, 12), "--duration", "2", "--output", "json", "--config", conf], dir);
    burner.kill();
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Document;
    expect([doc.tracer_name, doc.tracer_type, doc.container_id]).toEqual(["cpuidle", "manual", hot.id]);
    expect(processes(doc).map((f) => f.label)).toEqual(["sh"]);
    expect(doc.tracer_data.usage as number).toBeGreaterThan(20);
  }, 30_000);
});
