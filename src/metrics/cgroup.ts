// Locates a container's cgroup files for the container collectors (cgroup v1 per-controller hierarchies or v2 unified).
// Deliberately small: the pod layer owns the full cgroup → container mapping.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { readTextIfExists, sysPath } from "../procfs/root";

export interface CgroupLayout {
  /** "v2" only on a pure unified host; hybrid hosts keep the controllers on v1, so they count as "v1". */
  mode: "v1" | "v2";
  /** v1 only: the hierarchy directory name under /sys/fs/cgroup for each controller. */
  hierarchies: Map<string, string>;
}

/** Reads the mount layout under /sys/fs/cgroup; call once per scrape. */
export async function cgroupLayout(): Promise<CgroupLayout> {
  const root = sysPath("fs/cgroup");
  const unified = await readTextIfExists(join(root, "cgroup.controllers"));
  if (unified !== undefined) return { mode: "v2", hierarchies: new Map() };
  const hierarchies = new Map<string, string>();
  for (const name of await readdir(root).catch(() => [] as string[])) {
    // systemd mounts `cpu,cpuacct` and links `cpu` and `cpuacct` to it; other inits mount each name alone.
    for (const controller of name.split(",")) {
      if (!hierarchies.has(controller) || controller === name) hierarchies.set(controller, name);
    }
  }
  return { mode: "v1", hierarchies };
}

/** Path of `file` in the cgroup at `cgroupPath` ("" = root) for `controller`; undefined when v1 lacks it. */
export function cgroupFile(
  layout: CgroupLayout,
  controller: string,
  cgroupPath: string,
  file: string,
): string | undefined {
  if (layout.mode === "v2") return sysPath("fs/cgroup", cgroupPath, file);
  const hierarchy = layout.hierarchies.get(controller);
  return hierarchy === undefined ? undefined : sysPath("fs/cgroup", hierarchy, cgroupPath, file);
}

/** Text of a cgroup file, or undefined when the controller or the file is absent (container gone, old kernel). */
export async function readCgroupFile(
  layout: CgroupLayout,
  controller: string,
  cgroupPath: string,
  file: string,
): Promise<string | undefined> {
  const path = cgroupFile(layout, controller, cgroupPath, file);
  return path === undefined ? undefined : readTextIfExists(path);
}
