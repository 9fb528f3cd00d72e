// Support for the network event tests against the real kernel: the built daemon with a private local store, the
// watch stream through curl -N, stored documents, /tracers and /metrics, and network namespaces and links that are
// always removed again.
import { spawn, spawnSync } from "bun";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { scrape, startDaemon, workDir, type DaemonHandle } from "./daemon";

export interface NetDaemon {
  daemon: DaemonHandle;
  /** [Storage.LocalFile] Path */
  store: string;
}

/** The binary on the real /proc and /sys, storing into a fresh directory. */
export async function startNetDaemon(config = ""): Promise<NetDaemon> {
  const store = join(workDir("huatuo-net-store-"), "local");
  const daemon = await startDaemon({ procfsPrefix: null, config: `[Storage.LocalFile]\nPath = "${store}"\n${config}` });
  return { daemon, store };
}

export type Doc = { tracer_name: string; tracer_type: string; tracer_data: Record<string, unknown>; container_id?: string };

/** `<Path>/<tracer>`: one JSON document per line. */
export function storedDocs(store: string, tracer: string): Doc[] {
  const file = join(store, tracer);
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as Doc);
}

export interface Watch {
  /** The `data` of every CloudEvent received so far. */
  events(): Array<{ tracer_name: string; tracer_data: Record<string, unknown> }>;
  stop(): void;
}

/** POST /v1/events/watch with curl -N and a tracer_name filter. */
export function watchEvents(d: DaemonHandle, tracerPattern: string): Watch {
  const body = JSON.stringify({ filters: { tracer_name: tracerPattern } });
  const proc = spawn(["curl", "-s", "-N", "-X", "POST", d.url("/v1/events/watch"), "-H", "Content-Type: application/json", "-d", body], {
    stdout: "pipe",
    stderr: "ignore",
  });
  let text = "";
  void (async () => {
    for await (const chunk of proc.stdout) text += new TextDecoder().decode(chunk);
  })();
  return {
    events: () =>
      text
        .split("\n")
        .filter((line) => line.startsWith("data: "))
        .map((line) => JSON.parse(line.slice(6)).data)
        .filter((data) => data?.tracer_name),
    stop: () => proc.kill(),
  };
}

export async function until<T>(check: () => T | undefined | false | Promise<T | undefined | false>, ms = 15_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} not met in ${ms} ms`);
    await Bun.sleep(100);
  }
}

export interface TracerStatus {
  name: string;
  status: string;
  hook: string;
  reason: string;
  events: number;
}

export async function tracerStatus(d: DaemonHandle, name: string): Promise<TracerStatus> {
  const body = (await (await fetch(d.url("/tracers"))).json()) as { data: TracerStatus[] };
  const status = body.data.find((t) => t.name === name);
  if (!status) throw new Error(`tracer ${name} not registered`);
  return status;
}

/** The value of the series `name{...}` whose labels include every `labels` pair. */
export async function metric(d: DaemonHandle, name: string, labels: Record<string, string> = {}): Promise<number | undefined> {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = (await scrape(d))
    .split("\n")
    .find((l) => l.startsWith(`${name}{`) && wanted.every((pair) => l.includes(pair)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

/** Runs a command to completion; throws with its stderr when it fails. */
export function sh(...argv: string[]): string {
  const result = spawnSync(argv, { stdout: "pipe", stderr: "pipe" });
  if (result.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${result.stderr.toString().trim()}`);
  return result.stdout.toString();
}

/** Namespaces and host links a test creates, removed by cleanup() even when the test failed halfway. */
export class NetFixture {
  private readonly namespaces: string[] = [];
  private readonly links: string[] = [];
  /** A suffix that keeps parallel runs apart (names are at most 15 bytes). */
  readonly tag = `${process.pid % 10000}${Math.floor(Math.random() * 90 + 10)}`;

  netns(base: string): string {
    const name = `${base}${this.tag}`;
    sh("ip", "netns", "add", name);
    this.namespaces.push(name);
    sh("ip", "-n", name, "link", "set", "lo", "up");
    return name;
  }

  /** A host link to delete at cleanup (a veth end takes its peer with it). */
  hostLink(name: string): string {
    this.links.push(name);
    return name;
  }

  /** The inode of a namespace's network namespace (what events report as net_namespace_inum). */
  inode(netns: string): number {
    return Number(/\[(\d+)\]/.exec(sh("ip", "netns", "exec", netns, "readlink", "/proc/self/ns/net"))?.[1]);
  }

  cleanup(): void {
    for (const link of this.links.splice(0)) spawnSync(["ip", "link", "del", link]);
    for (const ns of this.namespaces.splice(0)) spawnSync(["ip", "netns", "del", ns]);
  }
}
