// Where kubelet puts a container's cgroup: the expected paths for the cgroupfs and systemd drivers, and a scan of the
// kubepods tree for everything else (custom cgroup roots, unknown runtimes). Paths are relative to a hierarchy root.
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { ContainerQos } from "./types";

/** A 64-hex runtime id inside a cgroup directory name: `<id>`, `cri-containerd-<id>.scope`, `docker-<id>.scope`, `crio-<id>`. */
const ID_IN_NAME = /(?:^|-)([0-9a-f]{64})(?:\.scope)?$/;

/** The container id a cgroup directory name belongs to; CRI-O's `crio-conmon-<id>` monitor scope is not the container. */
export function idFromCgroupName(name: string): string | undefined {
  if (name.includes("conmon")) return undefined;
  return ID_IN_NAME.exec(name)?.[1];
}

/** Kubelet's QoS segment: Guaranteed pods sit directly under kubepods. */
function qosSegment(qos: ContainerQos): string | undefined {
  return qos === "burstable" || qos === "besteffort" ? qos : undefined;
}

/** Scope name prefixes runc gives systemd-driver containers, per runtime. */
const SYSTEMD_SCOPE_PREFIXES = ["cri-containerd", "docker", "crio"];

/** Candidate paths in the order kubelet's drivers would create them; the first that exists wins. */
export function expectedCgroupPaths(podUid: string, qos: ContainerQos, id: string): string[] {
  const q = qosSegment(qos);
  const cgroupfs = ["kubepods", ...(q ? [q] : []), `pod${podUid}`];
  // systemd driver: every "-" in a segment becomes "_", and each level repeats its ancestors: kubepods-burstable-pod<uid>.
  const segments = cgroupfs.map((s) => s.replaceAll("-", "_"));
  const slices = segments.map((_, i) => `${segments.slice(0, i + 1).join("-")}.slice`);
  return [
    [...cgroupfs, id].join("/"),
    ...SYSTEMD_SCOPE_PREFIXES.map((p) => [...slices, `${p}-${id}.scope`].join("/")),
    // CRI-O with the cgroupfs driver names the directory crio-<id>.
    [...cgroupfs, `crio-${id}`].join("/"),
  ];
}

/** The first expected path that exists under `root`. */
export function findExpectedPath(root: string, podUid: string, qos: ContainerQos, id: string): string | undefined {
  return expectedCgroupPaths(podUid, qos, id).find((p) => existsSync(join(root, p)));
}

/** Deep enough for kubepods/<qos>/pod<uid>/<id> under a custom cgroup root such as kubelet.slice/kubelet-kubepods.slice. */
const MAX_SCAN_DEPTH = 6;

/**
 * Every container directory below the kubepods trees of `root`: id → relative path. Only subtrees whose path
 * mentions "kubepods" are walked, and the walk stops at a container directory, so the cost is one readdir per
 * top-level cgroup, pod and QoS level.
 */
export function scanKubepods(root: string): Map<string, string> {
  const found = new Map<string, string>();
  const walk = (rel: string, depth: number) => {
    for (const name of subdirs(join(root, rel))) {
      const path = rel ? `${rel}/${name}` : name;
      const id = idFromCgroupName(name);
      if (id !== undefined) {
        if (path.includes("kubepods") && !found.has(id)) found.set(id, path);
        continue;
      }
      // Root's children are listed too, to find a kubepods tree one level down (kubelet.slice/kubelet-kubepods.slice).
      if (depth < MAX_SCAN_DEPTH && (path.includes("kubepods") || depth === 0)) walk(path, depth + 1);
    }
  };
  walk("", 0);
  return found;
}

function subdirs(dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name);
  } catch {
    // A pod removed while we walk: nothing under it.
    return [];
  }
}
