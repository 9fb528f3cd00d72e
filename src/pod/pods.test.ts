// Kubelet PodList → container identities: fields, QoS, type rules, and untrusted JSON that must never throw.
import { describe, expect, test } from "bun:test";
import { podContainers, podItems, stripRuntimePrefix } from "./pods";

const ID = (c: string) => c.repeat(64);

function pod(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    metadata: {
      name: "web-0", namespace: "shop", uid: "u-1", labels: { app: "web" }, annotations: { note: "x" },
      ownerReferences: [{ kind: "StatefulSet", name: "web" }],
    },
    spec: { containers: [{ name: "app" }, { name: "istio-proxy" }] },
    status: {
      phase: "Running", qosClass: "Burstable", podIP: "10.0.0.7",
      containerStatuses: [
        { name: "app", containerID: `containerd://${ID("a")}`, state: { running: { startedAt: "2024-05-01T10:00:00Z" } } },
        { name: "istio-proxy", containerID: `docker://${ID("b")}`, state: { running: {} } },
      ],
    },
    ...overrides,
  };
}

describe("podContainers", () => {
  test("maps identity fields and strips runtime prefixes", () => {
    const [app, proxy] = podContainers(pod(), "node-1");
    expect(app).toEqual({
      id: ID("a"), name: "app", hostname: "web-0", namespace: "shop", qos: "burstable", type: "normal",
      podName: "web-0", podUid: "u-1", podIp: "10.0.0.7", running: true, startedAt: Date.parse("2024-05-01T10:00:00Z"),
      labels: { app: "web" }, annotations: { note: "x" },
    });
    expect(proxy!.id).toBe(ID("b"));
    expect(proxy!.type).toBe("sidecar");
    expect(proxy!.startedAt).toBe(0);
  });

  test("spec.hostname wins over the pod name; DaemonSet and hostNetwork pods take the node's", () => {
    const p = pod();
    (p.spec as Record<string, unknown>).hostname = "h";
    expect(podContainers(p, "node-1")[0]!.hostname).toBe("h");
    (p.spec as Record<string, unknown>).hostNetwork = true;
    expect(podContainers(p, "node-1")[0]!.hostname).toBe("node-1");
    const ds = pod();
    (ds.metadata as Record<string, unknown>).ownerReferences = [{ kind: "DaemonSet" }];
    expect(podContainers(ds, "node-1").map((c) => [c.type, c.hostname])).toEqual([
      ["daemonSet", "node-1"], ["sidecar", "node-1"],
    ]);
  });

  test("static pods, ownerless pods not running, native sidecars, QoS values", () => {
    const st = pod();
    (st.metadata as Record<string, unknown>).ownerReferences = [{ kind: "Node" }];
    expect(podContainers(st, "n")[0]!.type).toBe("static");
    const file = pod();
    (file.metadata as Record<string, unknown>).ownerReferences = undefined;
    (file.metadata as Record<string, unknown>).annotations = { "kubernetes.io/config.source": "file" };
    expect(podContainers(file, "n")[0]!.type).toBe("static");
    const bare = pod();
    (bare.metadata as Record<string, unknown>).ownerReferences = [];
    (bare.status as Record<string, unknown>).phase = "Pending";
    (bare.status as Record<string, unknown>).qosClass = "Guaranteed";
    expect(podContainers(bare, "n")[0]).toMatchObject({ type: "unknown", qos: "guaranteed" });
    const native = pod();
    (native.spec as Record<string, unknown>).initContainers = [{ name: "log", restartPolicy: "Always" }];
    (native.status as Record<string, unknown>).initContainerStatuses = [
      { name: "log", containerID: `containerd://${ID("c")}`, state: { running: {} } },
    ];
    (native.status as Record<string, unknown>).qosClass = "BestEffort";
    const log = podContainers(native, "n").find((c) => c.name === "log")!;
    expect(log).toMatchObject({ type: "sidecar", qos: "besteffort" });
  });

  test("containers without status entries or ids are skipped", () => {
    const p = pod();
    (p.status as Record<string, unknown>).containerStatuses = [
      { name: "app", state: { waiting: { reason: "ContainerCreating" } } },
      { name: "x", containerID: "containerd://nothex" },
      null, 7, "s",
    ];
    expect(podContainers(p, "n")).toEqual([]);
    const noStatus = pod();
    delete noStatus.status;
    expect(podContainers(noStatus, "n")).toEqual([]);
  });

  test("garbage never throws", () => {
    for (const g of [null, 1, "x", [], {}, { metadata: 5 }, { metadata: { uid: 3 } }, { metadata: { uid: "u" }, status: [] }]) {
      expect(podContainers(g, "n")).toEqual([]);
    }
    const weird = pod({ status: { containerStatuses: { not: "an array" }, qosClass: 9 } });
    expect(podContainers(weird, "n")).toEqual([]);
  });
});

describe("podItems and stripRuntimePrefix", () => {
  test("PodList shapes", () => {
    expect(podItems({ kind: "PodList", items: [1, 2] })).toEqual([1, 2]);
    expect(podItems({ kind: "PodList", items: null })).toEqual([]);
    expect(() => podItems([])).toThrow(/not a PodList/);
    expect(() => podItems({ items: "x" })).toThrow(/not a PodList/);
  });

  test("runtime prefixes", () => {
    expect(stripRuntimePrefix(`cri-o://${ID("d")}`)).toBe(ID("d"));
    expect(stripRuntimePrefix(ID("d"))).toBe(ID("d"));
    expect(stripRuntimePrefix(`containerd://${ID("D")}`)).toBeUndefined();
    expect(stripRuntimePrefix("")).toBeUndefined();
  });
});
