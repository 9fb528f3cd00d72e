// Turns kubelet's /pods JSON (a v1 PodList) into container identities. Pure and defensive: the input is untrusted
// JSON, so every field is checked and whatever cannot be mapped (no status entry, no id yet) is skipped, never thrown.
import type { ContainerQos, ContainerType } from "./types";

/** What the pod list says about one container; the cgroup, pid and netns are found on the host afterwards. */
export interface PodContainer {
  id: string;
  name: string;
  hostname: string;
  namespace: string;
  qos: ContainerQos;
  type: ContainerType;
  podName: string;
  podUid: string;
  podIp: string;
  /** True when the status says the container is running now (a missing cgroup is then worth a log line). */
  running: boolean;
  startedAt: number;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

type Json = Record<string, unknown>;

const obj = (v: unknown): Json | undefined => (v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string => (typeof v === "string" ? v : "");

/** The items of a PodList; throws only when the document is not a PodList at all. */
export function podItems(body: unknown): unknown[] {
  const list = obj(body);
  if (!list || (list.items !== null && list.items !== undefined && !Array.isArray(list.items))) {
    throw new Error("not a PodList: want an object with an items array");
  }
  return arr(list.items);
}

/** `<runtime>://<64 hex>` (containerd, docker, cri-o, ...) → the bare id; anything else cannot name a cgroup. */
export function stripRuntimePrefix(containerID: string): string | undefined {
  const id = containerID.replace(/^[a-z0-9.+-]+:\/\//, "");
  return /^[0-9a-f]{64}$/.test(id) ? id : undefined;
}

const QOS: Record<string, ContainerQos> = { Guaranteed: "guaranteed", Burstable: "burstable", BestEffort: "besteffort" };

function stringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(obj(v) ?? {})) if (typeof val === "string") out[k] = val;
  return out;
}

/** Static pods come from a manifest file or URL (config.source), or are the API server's mirror of one (owner Node). */
function isStaticPod(annotations: Record<string, string>, ownerKind: string): boolean {
  const source = annotations["kubernetes.io/config.source"];
  return ownerKind === "Node" || "kubernetes.io/config.mirror" in annotations || source === "file" || source === "http";
}

/** Sidecars: the Istio proxy by name (as the original), and native sidecars (init containers with restartPolicy Always, 1.28+). */
function sidecarNames(spec: Json): Set<string> {
  const names = new Set(["istio-proxy"]);
  for (const c of arr(spec.initContainers)) {
    const init = obj(c);
    if (init && str(init.restartPolicy) === "Always") names.add(str(init.name));
  }
  return names;
}

function startedAt(state: Json | undefined): number {
  const when = str(obj(state?.running)?.startedAt) || str(obj(state?.terminated)?.startedAt);
  const ms = Date.parse(when);
  return Number.isFinite(ms) ? ms : 0;
}

interface PodFacts {
  meta: Json;
  spec: Json;
  status: Json;
  ownerKind: string;
  annotations: Record<string, string>;
}

function podType(facts: PodFacts): ContainerType {
  if (facts.ownerKind === "DaemonSet") return "daemonSet";
  if (isStaticPod(facts.annotations, facts.ownerKind)) return "static";
  if (facts.ownerKind === "" && str(facts.status.phase) !== "Running") return "unknown";
  return "normal";
}

/**
 * The containers of one pod that have a status entry with a runtime id: regular, init and ephemeral.
 * DaemonSet and hostNetwork pods share the node's UTS namespace, so their hostname is the node's.
 */
export function podContainers(pod: unknown, nodeHostname: string): PodContainer[] {
  const meta = obj(obj(pod)?.metadata);
  const uid = str(meta?.uid);
  if (!meta || !uid) return [];
  const spec = obj(obj(pod)?.spec) ?? {};
  const status = obj(obj(pod)?.status) ?? {};
  const facts: PodFacts = {
    meta, spec, status,
    ownerKind: str(obj(arr(meta.ownerReferences)[0])?.kind),
    annotations: stringMap(meta.annotations),
  };
  const type = podType(facts);
  const sidecars = sidecarNames(spec);
  const hostNetwork = spec.hostNetwork === true;
  const base = {
    hostname: type === "daemonSet" || hostNetwork ? nodeHostname : str(spec.hostname) || str(meta.name),
    namespace: str(meta.namespace),
    qos: QOS[str(status.qosClass)] ?? "unknown",
    podName: str(meta.name),
    podUid: uid,
    podIp: str(status.podIP),
    labels: stringMap(meta.labels),
    annotations: facts.annotations,
  };
  const statuses = [status.containerStatuses, status.initContainerStatuses, status.ephemeralContainerStatuses].flatMap(arr);
  const out: PodContainer[] = [];
  for (const entry of statuses) {
    const s = obj(entry);
    const id = stripRuntimePrefix(str(s?.containerID));
    if (!s || !id) continue;
    const name = str(s.name);
    const state = obj(s.state);
    out.push({
      ...base, id, name,
      type: sidecars.has(name) ? "sidecar" : type,
      running: obj(state?.running) !== undefined,
      startedAt: startedAt(state),
    });
  }
  return out;
}
