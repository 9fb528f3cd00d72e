// Cgroup layout of a host, detected from mountinfo: legacy v1, hybrid (v1 controllers + a cgroup2 mount) or unified v2.
// Answers "which directory holds controller X" so readers never assume a layout.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { getRootPrefix, procPath, sysPath } from "../procfs/root";

export type CgroupMode = "legacy" | "hybrid" | "unified" | "none";

export interface CgroupLayout {
  mode: CgroupMode;
  /** v1 controller name (cpu, cpuacct, memory, blkio, name=systemd, ...) → mount directory. */
  v1: Map<string, string>;
  /** The cgroup2 mount directory, when there is one (/sys/fs/cgroup, or /sys/fs/cgroup/unified on hybrid hosts). */
  unified?: string;
}

interface Mount {
  point: string;
  fstype: string;
  superOptions: string;
}

/** The fields of /proc/<pid>/mountinfo that matter here; the optional fields end at the lone "-". */
export function parseMountinfo(text: string): Mount[] {
  const mounts: Mount[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    const dash = fields.indexOf("-");
    if (dash < 5 || fields.length < dash + 4) continue;
    mounts.push({ point: unescapeOctal(fields[4]!), fstype: fields[dash + 1]!, superOptions: fields[dash + 3]! });
  }
  return mounts;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeOctal(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/**
 * Layout from mountinfo text; `resolve` maps a mount point to where this process sees it (the procfs prefix).
 * The first mount of a hierarchy wins: bind mounts of the same controller elsewhere are ignored.
 */
export function layoutFromMountinfo(text: string, resolve: (mountPoint: string) => string = (p) => p): CgroupLayout {
  const v1 = new Map<string, string>();
  let unified: string | undefined;
  for (const m of parseMountinfo(text)) {
    if (m.fstype === "cgroup2") unified ??= resolve(m.point);
    if (m.fstype !== "cgroup") continue;
    for (const opt of m.superOptions.split(",")) {
      if (opt === "rw" || opt === "ro" || isMountFlag(opt)) continue;
      if (!v1.has(opt)) v1.set(opt, resolve(m.point));
    }
  }
  const hasControllers = [...v1.keys()].some((c) => !c.startsWith("name="));
  const mode: CgroupMode = hasControllers ? (unified ? "hybrid" : "legacy") : unified ? "unified" : "none";
  return { mode, v1: hasControllers ? v1 : new Map(), unified };
}

/** v1 super options that are not controller names (see Documentation/admin-guide/cgroup-v1/cgroups.rst). */
function isMountFlag(opt: string): boolean {
  return opt === "noprefix" || opt === "clone_children" || opt === "xattr" || opt === "cpuset_v2_mode" ||
    opt.startsWith("release_agent=") || opt === "favordynmods";
}

/** Mount points in the host's mountinfo are host paths: /sys/... lives under the procfs prefix like every other read. */
function resolveUnderRoot(mountPoint: string): string {
  if (mountPoint === "/sys" || mountPoint.startsWith("/sys/")) return sysPath(mountPoint.slice(5));
  return (getRootPrefix() || "") + mountPoint;
}

/** The layout the daemon's readers see (under --procfs-prefix). */
export function detectLayout(): CgroupLayout {
  let text = "";
  try {
    text = readFileSync(procPath("self/mountinfo"), "utf8");
  } catch {
    // Unreadable mountinfo: fall back to looking at the tree below.
  }
  const layout = layoutFromMountinfo(text, resolveUnderRoot);
  return layout.mode === "none" ? layoutFromTree(sysPath("fs/cgroup")) : layout;
}

/**
 * Without cgroup mounts in mountinfo (a fixture root, a chroot with /sys/fs/cgroup bind-mounted), the tree itself
 * tells: cgroup.controllers exists only at a cgroup2 root; otherwise each directory is a v1 hierarchy named after
 * its controllers ("cpu,cpuacct").
 */
export function layoutFromTree(root: string): CgroupLayout {
  if (existsSync(join(root, "cgroup.controllers"))) return { mode: "unified", v1: new Map(), unified: root };
  const v1 = new Map<string, string>();
  let names: string[] = [];
  try {
    names = readdirSync(root);
  } catch {
    return { mode: "none", v1 };
  }
  for (const name of names) {
    for (const c of name.split(",")) if (!v1.has(c) || c === name) v1.set(c, join(root, name));
  }
  return { mode: v1.size > 0 ? "legacy" : "none", v1 };
}

/** The real host layout, ignoring --procfs-prefix: for the agent's own cgroup, which is about this process. */
export function detectRealLayout(): CgroupLayout {
  return layoutFromMountinfo(readFileSync("/proc/self/mountinfo", "utf8"));
}

export interface ControllerDir {
  /** Absolute directory of the hierarchy root holding the controller. */
  root: string;
  version: 1 | 2;
}

/**
 * Where `controller` lives. On hybrid hosts the controllers stay on v1 (the cgroup2 mount there usually has none),
 * and a controller bound to no v1 hierarchy (hugetlb on some hybrid hosts, or cgroup core files) falls back to v2.
 */
export function controllerDir(layout: CgroupLayout, controller: string): ControllerDir | undefined {
  const v1 = layout.v1.get(controller === "io" ? "blkio" : controller);
  if (v1 !== undefined) return { root: v1, version: 1 };
  if (layout.unified !== undefined) return { root: layout.unified, version: 2 };
  return undefined;
}

/** Controllers tried, in order, to find where containers' cgroup directories are (any one has the same tree). */
const REFERENCE_CONTROLLERS = ["memory", "cpu", "cpuacct", "pids", "blkio", "cpuset"];

/** The hierarchy used to locate container directories and their cgroup.procs. */
export function referenceRoot(layout: CgroupLayout): string | undefined {
  for (const c of REFERENCE_CONTROLLERS) {
    const dir = layout.v1.get(c);
    if (dir !== undefined) return dir;
  }
  return layout.unified;
}
