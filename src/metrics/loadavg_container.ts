// loadavg container series: runnable (R) and uninterruptible (D) tasks of each container right now.
// As in HUATUO, the kernel counts them: taskstats CGROUPSTATS_CMD_GET over generic netlink, every container of a
// scrape in one call into the native layer, whatever the containers' thread counts. cgroupstats_build rejects cgroup2
// directories, so on v2 (and on kernels without the taskstats family, or without the native library) the documented
// equivalent counts the state of every task the cgroup lists: `tasks` (v1) or `cgroup.threads` (v2), then the state
// field of /proc/<tid>/stat.
import type { Emitter } from "../framework/types";
import { controllerDir } from "../pod/cgroup";
import { cgroupMountVersion, type CgroupFs } from "../pod/cgroup_reader";
import type { Container } from "../pod/types";
import { loadNative } from "../bpf/native";
import { CgroupStatsReader, taskstatsFamilyId } from "../procfs/cgroupstats";
import { procPath, readTextIfExistsSync } from "../procfs/root";
import { readEach } from "./containers";

export interface TaskCounts {
  nrRunning: number;
  nrUninterruptible: number;
}

/** How container task counts are read on this host, decided once when the collector starts. */
export type TaskCountSource =
  | { kind: "cgroupstats"; family: number; reader: CgroupStatsReader }
  | { kind: "task-states"; reason: string };

/**
 * cgroupstats when the cpu hierarchy is a real cgroup v1 mount, the kernel has the taskstats family here and the
 * native library loads (extracting and opening it loads no BPF program).
 */
export async function chooseTaskCountSource(fs: CgroupFs): Promise<TaskCountSource> {
  const cpu = controllerDir(fs.layout, "cpu");
  if (cpu === undefined) return { kind: "task-states", reason: "no cpu cgroup hierarchy" };
  if (cpu.version !== 1) {
    return { kind: "task-states", reason: "cgroupstats serves only cgroup v1 and the cpu directories are on cgroup2" };
  }
  if (cgroupMountVersion(cpu.root) !== 1) {
    return { kind: "task-states", reason: `${cpu.root} is not a cgroup v1 mount` };
  }
  let family: number | undefined;
  try {
    family = taskstatsFamilyId();
  } catch (err) {
    return { kind: "task-states", reason: `generic netlink: ${(err as Error).message}` };
  }
  if (family === undefined) {
    const reason = "no TASKSTATS generic netlink family (CONFIG_TASKSTATS off, or not the initial network namespace)";
    return { kind: "task-states", reason };
  }
  try {
    return { kind: "cgroupstats", family, reader: new CgroupStatsReader(await loadNative(), family) };
  } catch (err) {
    return { kind: "task-states", reason: `native library: ${(err as Error).message}` };
  }
}

/** The state letter of a /proc/<tid>/stat line: the field after the `(comm)`, which may itself hold spaces and ")". */
export function statState(stat: string): string {
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
}

/**
 * R counts as running and D as uninterruptible, the nearest /proc gets to cgroupstats. Idle kernel threads show I
 * (TASK_IDLE, Linux 4.14+) and count as neither, as in the kernel's own load average. Killable sleeps and frozen
 * tasks also show D here, while cgroupstats leaves them out.
 */
export function countStates(states: string[]): TaskCounts {
  let nrRunning = 0;
  let nrUninterruptible = 0;
  for (const s of states) {
    if (s === "R") nrRunning++;
    else if (s === "D") nrUninterruptible++;
  }
  return { nrRunning, nrUninterruptible };
}

/** Task counts of one container from its task list; undefined when its cgroup is gone. Exited tasks are not counted. */
export async function readContainerTasks(fs: CgroupFs, c: Container): Promise<TaskCounts | undefined> {
  const v = fs.dir(c, "cpu")?.version;
  const list = v === undefined ? undefined : await fs.read(c, "cpu", v === 1 ? "tasks" : "cgroup.threads");
  if (list === undefined) return undefined;
  const tids = list.split("\n").filter((t) => /^\d+$/.test(t));
  const stats = tids.map((tid) => readTextIfExistsSync(procPath(tid, "stat")));
  return countStates(stats.flatMap((s) => (s === undefined ? [] : [statState(s)])));
}

/** Task counts of every container that still exists, by `source`. */
export async function readContainersTasks(
  source: TaskCountSource,
  fs: CgroupFs,
  containers: Container[],
): Promise<Array<[Container, TaskCounts]>> {
  if (source.kind === "task-states" || containers.length === 0) {
    return readEach(containers, (c) => readContainerTasks(fs, c));
  }
  const present = containers.flatMap((c) => {
    const dir = fs.dir(c, "cpu");
    return dir ? [{ c, path: dir.path }] : [];
  });
  const stats = source.reader.readAll(present.map((p) => p.path));
  return present.flatMap(({ c }, i) => {
    const s = stats[i];
    return s ? [[c, { nrRunning: s.nrRunning, nrUninterruptible: s.nrUninterruptible }] as [Container, TaskCounts]] : [];
  });
}

export function emitContainerTasks(out: Emitter, counts: TaskCounts): void {
  out.gauge("nr_running", "nr_running of container", counts.nrRunning);
  out.gauge("nr_uninterruptible", "nr_uninterruptible of container", counts.nrUninterruptible);
}
