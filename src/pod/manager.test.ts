// PodManager against a temp cgroup tree and a stub fetcher: snapshots, cgroup lookup, failures logged once per episode.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Logger, type LogFields } from "../log";
import type { CgroupLayout } from "./cgroup";
import { PodManager } from "./manager";

class CaptureLogger extends Logger {
  readonly lines: string[] = [];
  constructor() {
    super("test");
  }
  override warn(msg: string, fields: LogFields = {}): void {
    this.lines.push(`warn ${msg} ${JSON.stringify(fields)}`);
  }
  override info(msg: string, fields: LogFields = {}): void {
    this.lines.push(`info ${msg} ${JSON.stringify(fields)}`);
  }
}

const ID_A = "a".repeat(64);
const ID_B = "b".repeat(64);
const root = mkdtempSync(join(tmpdir(), "huatuo-pods-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const layout: CgroupLayout = { mode: "unified", v1: new Map(), unified: root };

function cgroup(path: string, pids: number[]): void {
  mkdirSync(join(root, path), { recursive: true });
  writeFileSync(join(root, path, "cgroup.procs"), pids.map((p) => `${p}\n`).join(""));
}

function pod(uid: string, statuses: Array<[string, string]>, qos = "Burstable"): unknown {
  return {
    metadata: { name: `p-${uid}`, namespace: "ns", uid },
    status: {
      phase: "Running", qosClass: qos,
      containerStatuses: statuses.map(([name, id]) => ({ name, containerID: `containerd://${id}`, state: { running: {} } })),
    },
  };
}

function manager(fetch: () => Promise<unknown[]>, log = new CaptureLogger()) {
  return { log, m: new PodManager({ fetcher: { fetchPods: fetch }, layout, log, nodeHostname: "node" }) };
}

describe("PodManager", () => {
  test("maps listed containers to cgroups, pids and netns; skips what has no cgroup, logging it once", async () => {
    cgroup(`kubepods/burstable/podu1/${ID_A}`, [process.pid]);
    const { m, log } = manager(async () => [pod("u1", [["app", ID_A], ["gone", ID_B]]), "garbage", null]);
    expect(m.list()).toEqual([]);
    expect(await m.syncOnce()).toBe(true);
    expect(m.syncedAt).toBeGreaterThan(0);
    const [c] = m.list();
    expect(m.list()).toHaveLength(1);
    expect(c).toMatchObject({ id: ID_A, name: "app", cgroupPath: `kubepods/burstable/podu1/${ID_A}`, initPid: process.pid });
    expect(c!.netnsInode).toBe(statSync(`/proc/${process.pid}/ns/net`).ino);
    await m.syncOnce();
    expect(log.lines.filter((l) => l.includes("cgroup not found"))).toHaveLength(1);
    expect(log.lines[0]).toContain(ID_B);
  });

  test("an unchanged container keeps its object across syncs; any change makes a new one", async () => {
    const id = "c".repeat(64);
    cgroup(`kubepods/burstable/podu3/${id}`, [process.pid]);
    let name = "app";
    const { m } = manager(async () => [pod("u3", [[name, id]])]);
    await m.syncOnce();
    const first = m.list()[0];
    await m.syncOnce();
    expect(m.list()[0]).toBe(first!);
    name = "renamed";
    await m.syncOnce();
    expect(m.list()[0]).not.toBe(first!);
    expect(m.list()[0]).toMatchObject({ id, name: "renamed" });
  });

  test("finds systemd-named and custom-root cgroups by scanning", async () => {
    cgroup(`kubepods.slice/kubepods-pod_u2.slice/docker-${ID_B}.scope`, []);
    const { m } = manager(async () => [pod("u_2", [["b", ID_B]], "Guaranteed")]);
    await m.syncOnce();
    expect(m.list()[0]).toMatchObject({ cgroupPath: `kubepods.slice/kubepods-pod_u2.slice/docker-${ID_B}.scope`, initPid: 0, netnsInode: 0 });
  });

  test("a failing fetch keeps the last snapshot, logs once per episode, and logs the recovery", async () => {
    let fail = false;
    const { m, log } = manager(async () => {
      if (fail) throw new Error("http://127.0.0.1:1/pods: ECONNREFUSED");
      return [pod("u1", [["app", ID_A]])];
    });
    await m.syncOnce();
    fail = true;
    for (let i = 0; i < 5; i++) expect(await m.syncOnce()).toBe(false);
    expect(m.list()).toHaveLength(1);
    fail = false;
    await m.syncOnce();
    expect(log.lines.filter((l) => l.startsWith("warn kubelet"))).toHaveLength(1);
    expect(log.lines.filter((l) => l.startsWith("info kubelet pod sync recovered"))).toHaveLength(1);
    expect(log.lines.join("\n")).toContain('"failed_attempts":5');
  });

  test("start() syncs in the background and never blocks; stop() ends the loop", async () => {
    let calls = 0;
    const fetchPods = async () => {
      calls++;
      await Bun.sleep(30);
      return [pod("u1", [["app", ID_A]])];
    };
    const m = new PodManager({ fetcher: { fetchPods }, layout, log: new CaptureLogger(), nodeHostname: "n", intervalMs: 20 });
    m.start();
    expect(m.list()).toEqual([]);
    await Bun.sleep(200);
    m.stop();
    const seen = calls;
    await Bun.sleep(100);
    expect(seen).toBeGreaterThan(2);
    expect(calls).toBe(seen);
    expect(m.list()).toHaveLength(1);
  });
});
