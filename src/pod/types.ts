// What the agent knows about one container: the identity that labels its metrics and events.
export type ContainerQos = "guaranteed" | "burstable" | "besteffort" | "unknown";
export type ContainerType = "normal" | "sidecar" | "daemonSet" | "node" | "static" | "unknown";

export interface Container {
  /** Runtime id with the runtime prefix (containerd://, docker://, cri-o://) stripped. */
  id: string;
  /** Kubernetes container name. */
  name: string;
  /** Pod spec.hostname, else the pod name (the `container_host` label). */
  hostname: string;
  /** Pod namespace (the `container_hostnamespace` label). */
  namespace: string;
  qos: ContainerQos;
  type: ContainerType;
  /** Cgroup path relative to the hierarchy root, e.g. `kubepods/burstable/pod<uid>/<id>`. */
  cgroupPath: string;
  /** A pid inside the container (its init process), 0 when unknown. */
  initPid: number;
  /** Inode of the container's network namespace, 0 when unknown. */
  netnsInode: number;
  /** Unix milliseconds when the container started, 0 when unknown. */
  startedAt: number;
  podName: string;
  podUid: string;
  /** Pod IP from status.podIP, when known. */
  podIp?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

/** The five labels every container series carries, in HUATUO's names. */
export function containerLabels(c: Container): Record<string, string> {
  return {
    container_host: c.hostname,
    container_hostnamespace: c.namespace,
    container_level: c.qos,
    container_name: c.name,
    container_type: c.type,
  };
}

/** Read access to the known containers; the kubelet-backed implementation lives beside this file. */
export interface ContainerSource {
  list(): Container[];
}

export const noContainers: ContainerSource = { list: () => [] };
