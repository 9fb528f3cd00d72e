// Test support for container tests on the real kernel: kubelet-style cgroups (cgroupfs and systemd naming, v1 or v2)
// with real processes inside, pod JSON that lists them, and a fake kubelet on loopback (plain HTTP or mutual TLS).
import { spawn, type Server, type Subprocess } from "bun";
import { mkdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const V1_CONTROLLERS = ["cpu", "cpuacct", "cpuset", "memory", "blkio", "pids"];
export const V1_ROOTS = V1_CONTROLLERS.map((c) => `/sys/fs/cgroup/${c}`);
export const V2_ROOT = "/sys/fs/cgroup/unified";

export type Qos = "Guaranteed" | "Burstable" | "BestEffort";
export type Naming = "cgroupfs" | "systemd";
export type Runtime = "containerd" | "docker" | "cri-o";

export interface FakeContainer {
  id: string;
  name: string;
  runtime: Runtime;
  /** Relative to each hierarchy root. */
  path: string;
  proc?: Subprocess;
  pid: number;
}

export interface FakePod {
  uid: string;
  name: string;
  namespace: string;
  qos: Qos;
  containers: FakeContainer[];
  extra?: { owner?: string; hostname?: string; hostNetwork?: boolean; labels?: Record<string, string> };
}

export function randomId(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("hex");
}

const SCOPE: Record<Runtime, string> = { containerd: "cri-containerd", docker: "docker", "cri-o": "crio" };

/** The directory kubelet and runc would create for this container. */
export function containerPath(naming: Naming, qos: Qos, podUid: string, id: string, runtime: Runtime): string {
  const levels = ["kubepods", ...(qos === "Guaranteed" ? [] : [qos.toLowerCase()]), `pod${podUid}`];
  if (naming === "cgroupfs") return [...levels, runtime === "cri-o" ? `crio-${id}` : id].join("/");
  const segs = levels.map((s) => s.replaceAll("-", "_"));
  const slices = segs.map((_, i) => `${segs.slice(0, i + 1).join("-")}.slice`);
  return [...slices, `${SCOPE[runtime]}-${id}.scope`].join("/");
}

/** Appends to `created` only the directories it made, so that cleanup leaves alone what others share (kubepods). */
export function mkdirCgroups(root: string, path: string, created: string[]): void {
  let dir = root;
  for (const seg of path.split("/")) {
    const parent = dir;
    dir = join(dir, seg);
    try {
      mkdirSync(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
      throw err;
    }
    created.push(dir);
    // A new v1 cpuset child starts with no CPUs and no memory nodes; tasks cannot join it until both are set.
    if (root.endsWith("/cpuset")) {
      for (const f of ["cpuset.cpus", "cpuset.mems"]) writeFileSync(join(dir, f), readFileSync(join(parent, f), "utf8").trim());
    }
  }
}

/** Kubelet-like cgroups under real hierarchy roots; remembers what it created so cleanup removes only that. */
export class KubeNode {
  private readonly created: string[] = [];
  private readonly procs: Subprocess[] = [];

  constructor(readonly roots: string[]) {}

  /** Creates the cgroup in every root and starts `cmd` inside it (its pid written to each cgroup.procs). */
  addContainer(opts: {
    naming: Naming; qos: Qos; podUid: string; name: string; runtime?: Runtime; cmd?: string[]; start?: boolean;
  }): FakeContainer {
    const id = randomId();
    const runtime = opts.runtime ?? "containerd";
    const path = containerPath(opts.naming, opts.qos, opts.podUid, id, runtime);
    for (const root of this.roots) mkdirCgroups(root, path, this.created);
    const c: FakeContainer = { id, name: opts.name, runtime, path, pid: 0 };
    if (opts.start !== false) {
      c.proc = spawn(opts.cmd ?? ["sleep", "600"], { stdout: "ignore", stderr: "ignore", stdin: "ignore" });
      this.procs.push(c.proc);
      c.pid = c.proc.pid;
      for (const root of this.roots) writeFileSync(join(root, path, "cgroup.procs"), String(c.pid));
    }
    return c;
  }

  /** Kills the container's process and removes its cgroup directories (a container that exited). */
  async remove(c: FakeContainer): Promise<void> {
    if (c.proc) {
      c.proc.kill("SIGKILL");
      await c.proc.exited;
    }
    for (const root of this.roots) rmdirRetry(join(root, c.path));
  }

  async cleanup(): Promise<void> {
    for (const p of this.procs) p.kill("SIGKILL");
    await Promise.all(this.procs.map((p) => p.exited));
    for (const dir of this.created.splice(0).reverse()) rmdirRetry(dir);
  }
}

/** A cgroup whose last task just died can report EBUSY for a moment; gone already is fine. */
function rmdirRetry(dir: string): void {
  for (let i = 0; i < 50; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") return;
      if (code !== "EBUSY") throw err;
      Bun.sleepSync(20);
    }
  }
}

/** Waits until `pid` has left this process's network namespace (`unshare --net` does so just after it starts). */
export async function waitOwnNetns(pid: number): Promise<void> {
  const host = statSync("/proc/self/ns/net").ino;
  for (let i = 0; i < 200; i++) {
    if (statSync(`/proc/${pid}/ns/net`).ino !== host) return;
    await Bun.sleep(10);
  }
  throw new Error(`pid ${pid} never entered its own network namespace`);
}

export function podJson(p: FakePod): Record<string, unknown> {
  return {
    metadata: {
      name: p.name, namespace: p.namespace, uid: p.uid, labels: p.extra?.labels ?? { app: p.name },
      ...(p.extra?.owner ? { ownerReferences: [{ kind: p.extra.owner, name: "owner" }] } : {}),
    },
    spec: {
      containers: p.containers.map((c) => ({ name: c.name })),
      ...(p.extra?.hostname ? { hostname: p.extra.hostname } : {}),
      ...(p.extra?.hostNetwork ? { hostNetwork: true } : {}),
    },
    status: {
      phase: "Running", qosClass: p.qos, podIP: "10.1.2.3",
      containerStatuses: p.containers.map((c) => ({
        name: c.name, containerID: `${c.runtime}://${c.id}`, state: { running: { startedAt: "2025-01-02T03:04:05Z" } },
      })),
    },
  };
}

export interface FakeKubelet {
  port: number;
  requests: number;
  /** What /pods answers next: a JSON value, or a raw Response factory (garbage, errors). */
  respond: (() => Response) | unknown;
  stop(): void;
}

export interface TlsFiles {
  cert: string;
  key: string;
  /** Client certificates must chain to this CA. */
  ca: string;
}

export function fakeKubelet(initial: unknown, tls?: TlsFiles): FakeKubelet {
  const state: FakeKubelet = { port: 0, requests: 0, respond: initial, stop: () => server.stop(true) };
  const server: Server<undefined> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    ...(tls ? { tls: { cert: readFileSync(tls.cert, "utf8"), key: readFileSync(tls.key, "utf8"), ca: readFileSync(tls.ca, "utf8"), requestCert: true, rejectUnauthorized: true } } : {}),
    fetch(req) {
      state.requests++;
      if (new URL(req.url).pathname !== "/pods") return new Response("not found", { status: 404 });
      return typeof state.respond === "function" ? (state.respond as () => Response)() : Response.json(state.respond);
    },
  });
  state.port = server.port!;
  return state;
}

export function podList(pods: unknown[]): unknown {
  return { kind: "PodList", apiVersion: "v1", metadata: {}, items: pods };
}

/** A CA, a server certificate, a client certificate signed by the CA and one that is not, via openssl. */
export async function makeCerts(dir: string): Promise<Record<"ca" | "caKey" | "srv" | "srvKey" | "cli" | "cliKey" | "bad" | "badKey", string>> {
  const f = (n: string) => join(dir, n);
  const run = async (args: string[]) => {
    const p = spawn(["openssl", ...args], { stdout: "ignore", stderr: "pipe" });
    if ((await p.exited) !== 0) throw new Error(`openssl ${args[0]}: ${await new Response(p.stderr).text()}`);
  };
  const selfSigned = (key: string, cert: string, cn: string) =>
    run(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f(key), "-out", f(cert), "-days", "2", "-subj", `/CN=${cn}`]);
  await selfSigned("ca.key", "ca.pem", "huatuo-test-ca");
  await selfSigned("srv.key", "srv.pem", "127.0.0.1");
  await selfSigned("bad.key", "bad.pem", "intruder");
  await run(["req", "-newkey", "rsa:2048", "-nodes", "-keyout", f("cli.key"), "-out", f("cli.csr"), "-subj", "/CN=huatuo-bamai"]);
  await run(["x509", "-req", "-in", f("cli.csr"), "-CA", f("ca.pem"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f("cli.pem"), "-days", "2"]);
  return {
    ca: f("ca.pem"), caKey: f("ca.key"), srv: f("srv.pem"), srvKey: f("srv.key"),
    cli: f("cli.pem"), cliKey: f("cli.key"), bad: f("bad.pem"), badKey: f("bad.key"),
  };
}
