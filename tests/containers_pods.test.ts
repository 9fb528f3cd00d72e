// Pod discovery end to end on cgroup v1 (this host is hybrid, so controllers are on v1): kubelet-style cgroups in both
// driver namings with real processes, a fake kubelet listing them, and the built binary's GET /containers/json.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { statSync } from "node:fs";
import { hostname } from "node:os";
import { fakeKubelet, KubeNode, podJson, podList, randomId, V1_ROOTS, waitOwnNetns, type FakeContainer, type FakeKubelet, type FakePod } from "./support/cgroups";
import { scrape, startDaemon, type DaemonHandle } from "./support/daemon";

const node = new KubeNode(V1_ROOTS);
let kubelet: FakeKubelet;
let daemon: DaemonHandle;
let pods: FakePod[];
let ghost: FakeContainer;

function uid(): string {
  return crypto.randomUUID();
}

async function containersJson(query = ""): Promise<{ status: number; body: any }> {
  const res = await fetch(daemon.url(`/containers/json${query}`));
  return { status: res.status, body: await res.json() };
}

async function waitFor(pred: (data: any[]) => boolean, timeoutMs = 15_000): Promise<any[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { body } = await containersJson();
    if (pred(body.data)) return body.data;
    if (Date.now() > deadline) throw new Error(`timed out; last /containers/json: ${JSON.stringify(body)}`);
    await Bun.sleep(100);
  }
}

beforeAll(async () => {
  const u = [uid(), uid(), uid(), uid(), uid()];
  pods = [
    { uid: u[0]!, name: "web-0", namespace: "shop", qos: "Burstable", containers: [
      node.addContainer({ naming: "cgroupfs", qos: "Burstable", podUid: u[0]!, name: "app" }),
      node.addContainer({ naming: "cgroupfs", qos: "Burstable", podUid: u[0]!, name: "istio-proxy", runtime: "docker" }),
    ], extra: { owner: "StatefulSet", labels: { app: "web", tier: "front" } } },
    { uid: u[1]!, name: "db-0", namespace: "data", qos: "Guaranteed", containers: [
      node.addContainer({ naming: "cgroupfs", qos: "Guaranteed", podUid: u[1]!, name: "db", runtime: "cri-o" }),
    ], extra: { owner: "StatefulSet", hostname: "db" } },
    { uid: u[2]!, name: "agent-x7", namespace: "kube-system", qos: "Burstable", containers: [
      node.addContainer({ naming: "systemd", qos: "Burstable", podUid: u[2]!, name: "agent", cmd: ["unshare", "--net", "sleep", "600"] }),
    ], extra: { owner: "DaemonSet" } },
    { uid: u[3]!, name: "batch-1", namespace: "jobs", qos: "BestEffort", containers: [
      node.addContainer({ naming: "systemd", qos: "BestEffort", podUid: u[3]!, name: "work", runtime: "docker" }),
    ], extra: { owner: "Job" } },
    { uid: u[4]!, name: "cache-0", namespace: "shop", qos: "Guaranteed", containers: [
      node.addContainer({ naming: "systemd", qos: "Guaranteed", podUid: u[4]!, name: "redis", runtime: "cri-o" }),
    ], extra: { owner: "ReplicaSet" } },
  ];
  await waitOwnNetns(pods[2]!.containers[0]!.pid);
  // Listed as running, but no cgroup on this host: skipped and logged once.
  ghost = { id: randomId(), name: "ghost", runtime: "containerd", path: "", pid: 0 };
  const ghostPod = podJson({ uid: uid(), name: "ghost-0", namespace: "shop", qos: "Burstable", containers: [ghost] });
  const noStatuses = podJson({ uid: uid(), name: "pending-0", namespace: "shop", qos: "Burstable", containers: [] });
  (noStatuses.spec as any).containers = [{ name: "not-yet" }];
  (noStatuses.status as any).phase = "Pending";
  kubelet = fakeKubelet(podList([...pods.map(podJson), ghostPod, noStatuses, 42, "garbage", { metadata: 1 }, null]));
  daemon = await startDaemon({
    procfsPrefix: null,
    kubelet: true,
    config: `[Pod]\nKubeletReadOnlyPort = ${kubelet.port}\nKubeletAuthorizedPort = 0\n`,
  });
});

afterAll(async () => {
  await daemon?.stop();
  kubelet?.stop();
  await node.cleanup();
});

describe("GET /containers/json (cgroup v1, cgroupfs and systemd naming)", () => {
  test("lists every container with a cgroup, with the right fields, init pids and netns", async () => {
    const data = await waitFor((d) => d.length === 6);
    const byName = new Map(data.map((c) => [c.name, c]));
    for (const pod of pods) {
      for (const fc of pod.containers) {
        const c = byName.get(fc.name)!;
        expect(c.id).toBe(fc.id);
        expect(c.cgroup_path).toBe(`/${fc.path}`);
        expect(c.init_pid).toBe(fc.pid);
        expect(c.net_namespace_inum).toBe(statSync(`/proc/${fc.pid}/ns/net`).ino);
        expect(c.labels).toEqual({ HostNamespace: pod.namespace });
        expect(c.pod_uid).toBe(pod.uid);
        expect(c.started_at).toBe("2025-01-02T03:04:05.000Z");
        expect(Date.parse(c.synced_at)).toBeGreaterThan(Date.now() - 60_000);
      }
    }
    expect(byName.get("app")).toMatchObject({ hostname: "web-0", qos: "burstable", type: "normal", net_ip_address: "10.1.2.3", pod_labels: { app: "web", tier: "front" } });
    expect(byName.get("istio-proxy")).toMatchObject({ type: "sidecar" });
    expect(byName.get("db")).toMatchObject({ hostname: "db", qos: "guaranteed", type: "normal" });
    expect(byName.get("agent")).toMatchObject({ hostname: hostname(), type: "daemonSet" });
    expect(byName.get("work")).toMatchObject({ qos: "besteffort" });
    // unshare --net: its own network namespace, not the host's.
    expect(byName.get("agent").net_namespace_inum).not.toBe(statSync("/proc/self/ns/net").ino);
  });

  test("?container_id= takes a full id or a prefix of 12+ hex digits, case-insensitively", async () => {
    const id = pods[0]!.containers[0]!.id;
    for (const q of [id, id.slice(0, 12), id.toUpperCase()]) {
      const { status, body } = await containersJson(`?container_id=${q}`);
      expect(status).toBe(200);
      expect(body.data.map((c: any) => c.id)).toEqual([id]);
    }
    expect((await containersJson(`?container_id=${"f".repeat(64)}`)).body).toEqual({ data: [] });
  });

  test("invalid queries are 400 JSON errors", async () => {
    for (const q of ["?container_id=xyz", "?container_id=abcdef01234", `?container_id=${"a".repeat(65)}`, "?container_id=",
      "?id=abc", "?container_id=aaaaaaaaaaaa&container_id=bbbbbbbbbbbb", `?container_id=${"a".repeat(12)}&x=1`]) {
      const { status, body } = await containersJson(q);
      expect(status).toBe(400);
      expect(body.error.code).toBe("invalid_request");
    }
  });

  test("a container whose cgroup vanishes: /metrics keeps working, the next sync drops it", async () => {
    const gone = pods[3]!.containers[0]!;
    await node.remove(gone);
    expect((await scrape(daemon)).length).toBeGreaterThan(0);
    expect((await containersJson()).status).toBe(200);
    const data = await waitFor((d) => d.length === 5 && !d.some((c) => c.id === gone.id), 25_000);
    expect(data.map((c) => c.name).sort()).toEqual(["agent", "app", "db", "istio-proxy", "redis"]);
  }, 30_000);

  test("each unmappable container is logged once across syncs; garbage never stops the daemon", async () => {
    expect((await fetch(daemon.url("/healthz"))).status).toBe(204);
    expect(kubelet.requests).toBeGreaterThanOrEqual(2);
    expect(await daemon.stop()).toBe(0);
    const out = await daemon.output();
    const ghostLines = out.split("\n").filter((l) => l.includes("container cgroup not found") && l.includes(ghost.id));
    expect(ghostLines).toHaveLength(1);
    expect(ghostLines[0]).toContain("pod=shop/ghost-0");
    expect(out).not.toContain("pending-0");
    expect(out.split("\n").filter((l) => l.includes("kubelet pod sync failed"))).toHaveLength(0);
  });
});
