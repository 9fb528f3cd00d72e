// Shared by tests/events_sys_*.test.ts: a daemon from the built binary with local storage and a fake kubelet, the
// watch stream through curl -N, stored documents, counters, and cgroup/sysctl changes undone in afterAll.
import { spawn, type Subprocess } from "bun";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fakeKubelet, KubeNode, podJson, podList, V1_ROOTS, type FakeContainer, type FakeKubelet } from "./cgroups";
import { scrape, seriesLines, startDaemon, type DaemonHandle } from "./daemon";

export const isRoot = process.getuid?.() === 0;

export async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, ms = 30_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await Bun.sleep(100);
  }
}

/** The stored documents of one tracer (the live file, one JSON document per line). */
export function storedDocs(dir: string, tracer: string): Array<Record<string, any>> {
  const file = join(dir, tracer);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
}

/** `curl -N` on POST /v1/events/watch; `events()` are the CloudEvents received so far. */
export function curlWatch(url: string, filters: Record<string, string>) {
  const proc = spawn(["curl", "-s", "-N", "-X", "POST", url, "-H", "Content-Type: application/json", "-d", JSON.stringify({ filters })], {
    stdout: "pipe",
    stderr: "ignore",
  });
  let text = "";
  void (async () => {
    for await (const chunk of proc.stdout) text += new TextDecoder().decode(chunk);
  })();
  const events = () =>
    text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)) as { type: string; data: Record<string, any> });
  return { proc, events };
}

/** The value of `name{labels...}` (labels a subset), undefined when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const line = seriesLines(text, `${name}{`).find((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

export async function metricUntil(d: DaemonHandle, name: string, labels: Record<string, string>, min: number): Promise<number> {
  return until(async () => {
    const v = metricValue(await scrape(d), name, labels);
    return v !== undefined && v >= min ? v : undefined;
  }, 15_000, `${name} >= ${min}`);
}

/** A kubelet-like node on the v1 hierarchies with one pod per container, and a daemon that knows them. */
export class EventNode {
  readonly node = new KubeNode(V1_ROOTS);
  readonly containers = new Map<string, FakeContainer>();
  private kubelet?: FakeKubelet;
  daemon?: DaemonHandle;
  readonly localDir: string;
  private readonly restores: Array<() => void | Promise<void>> = [];
  private readonly procs: Subprocess[] = [];

  constructor(readonly workDir: string) {
    this.localDir = join(workDir, "huatuo-local");
  }

  /** Containers running `sleep`: their processes are started in them by `runIn`. */
  addContainers(names: string[]): void {
    const pods = names.map((name) => {
      const podUid = crypto.randomUUID();
      const c = this.node.addContainer({ naming: "cgroupfs", qos: "Burstable", podUid, name });
      this.containers.set(name, c);
      return podJson({ uid: podUid, name: `${name}-0`, namespace: "events", qos: "Burstable", containers: [c] });
    });
    this.kubelet = fakeKubelet(podList(pods));
  }

  async start(config = ""): Promise<DaemonHandle> {
    const pod = `[Pod]\nKubeletReadOnlyPort = ${this.kubelet!.port}\nKubeletAuthorizedPort = 0\n`;
    const storage = `[Storage.LocalFile]\nPath = "${this.localDir}"\n`;
    this.daemon = await startDaemon({ procfsPrefix: null, kubelet: true, config: `${pod}${storage}${config}` });
    const last = [...this.containers.values()].at(-1);
    if (!last) return this.daemon;
    await until(async () => {
      const listed = (await (await fetch(this.daemon!.url("/containers/json"))).json()) as unknown;
      return JSON.stringify(listed).includes(last.id);
    }, 20_000, "containers listed by the daemon");
    return this.daemon;
  }

  /** A watch client (curl -N) connected before this returns. */
  watch(filters: Record<string, string>): Promise<ReturnType<typeof curlWatch>> {
    return this.connected(() => curlWatch(this.daemon!.url("/v1/events/watch"), filters));
  }

  /** Starts a watch client and waits until the daemon's watch clients gauge counts it. */
  async connected<T>(start: () => T): Promise<T> {
    const clients = async () => metricValue(await scrape(this.daemon!), "huatuo_bamai_events_watch_clients") ?? 0;
    const before = await clients();
    const client = start();
    await until(async () => (await clients()) > before, 10_000, "watch client connected");
    return client;
  }

  /** Sets a cgroup file of a container's memory cgroup. */
  memoryFile(name: string, file: string, value: string): void {
    writeFileSync(`/sys/fs/cgroup/memory/${this.containers.get(name)!.path}/${file}`, value);
  }

  /** Runs `script` with sh inside the container's cgroups (it joins them before exec'ing the work). */
  runIn(name: string, script: string): Subprocess {
    const path = this.containers.get(name)!.path;
    const join = V1_ROOTS.map((root) => `echo $$ > ${root}/${path}/cgroup.procs`).join("; ");
    const proc = spawn(["sh", "-c", `${join}; ${script}`], { stdout: "ignore", stderr: "ignore", stdin: "ignore" });
    this.procs.push(proc);
    return proc;
  }

  /** Writes a sysctl-like file now and restores its value in cleanup. */
  setFile(path: string, value: string): void {
    const before = readFileSync(path, "utf8").trim();
    writeFileSync(path, value);
    this.restores.push(() => writeFileSync(path, before));
  }

  /** Runs on cleanup, before the cgroups are removed (unmounts, loop devices). */
  onCleanup(undo: () => void | Promise<void>): void {
    this.restores.push(undo);
  }

  async cleanup(): Promise<void> {
    await this.daemon?.stop();
    this.kubelet?.stop();
    for (const undo of this.restores.splice(0).reverse()) {
      try {
        await undo();
      } catch (err) {
        console.error(`cleanup: ${(err as Error).message}`);
      }
    }
    for (const p of this.procs) p.kill("SIGKILL");
    await Promise.all(this.procs.map((p) => p.exited));
    await this.node.cleanup();
  }
}
