// loadavg container series: runnable (R) and uninterruptible (D) tasks of each container right now.
// The original asks the kernel through taskstats CGROUPSTATS_CMD_GET, which only accepts cgroup v1 directories
// (cgroupstats_build rejects cgroup2); counting the state of every task listed by the cgroup gives the same two
// numbers on v1 and v2 alike: `tasks` (v1) or `cgroup.threads` (v2), then the state field of /proc/<tid>/stat.
import type { Emitter } from "../framework/types";
import type { CgroupFs } from "../pod/cgroup_reader";
import type { Container } from "../pod/types";
import { procPath, readTextIfExistsSync } from "../procfs/root";

export interface TaskCounts {
  nrRunning: number;
  nrUninterruptible: number;
}

/** The state letter of a /proc/<tid>/stat line: the field after the `(comm)`, which may itself hold spaces and ")". */
export function statState(stat: string): string {
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
}

/**
 * R counts as running and D as uninterruptible, like cgroupstats. Idle kernel threads show I
 * (TASK_IDLE, Linux 4.14+) and count as neither, as in the kernel's own load average.
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

/** Task counts of one container; undefined when its cgroup is gone. A task that exits meanwhile is not counted. */
export async function readContainerTasks(fs: CgroupFs, c: Container): Promise<TaskCounts | undefined> {
  const v = fs.dir(c, "cpu")?.version;
  const list = v === undefined ? undefined : await fs.read(c, "cpu", v === 1 ? "tasks" : "cgroup.threads");
  if (list === undefined) return undefined;
  const tids = list.split("\n").filter((t) => /^\d+$/.test(t));
  const stats = tids.map((tid) => readTextIfExistsSync(procPath(tid, "stat")));
  return countStates(stats.flatMap((s) => (s === undefined ? [] : [statState(s)])));
}

export function emitContainerTasks(out: Emitter, counts: TaskCounts): void {
  out.gauge("nr_running", "nr_running of container", counts.nrRunning);
  out.gauge("nr_uninterruptible", "nr_uninterruptible of container", counts.nrUninterruptible);
}
