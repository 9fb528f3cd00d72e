// dload's decision core, pure: the kernel's fixed-point load average (kernel/sched/loadavg.c calc_load) applied once
// per sample to a container's runnable and D-state task counts, task-state counting, known-issue classification.

export const FSHIFT = 11;
export const FIXED_1 = 1 << FSHIFT;
/** 1/exp(5s/1min) and 1/exp(5s/5min) in fixed point. */
export const EXP_1 = 1884;
export const EXP_5 = 2014;

/** One step of the kernel's exponential moving average; `active` is a task count times FIXED_1. */
export function calcLoad(load: number, exp: number, active: number): number {
  return Math.floor((load * exp + active * (FIXED_1 - exp) + FIXED_1 / 2) / FIXED_1);
}

/** A fixed-point load as /proc/loadavg prints it, rounded at the second decimal: LOAD_INT(x+10) + LOAD_FRAC(x+10)/100. */
export function loadValue(x: number): number {
  const y = x + Math.floor(FIXED_1 / 200);
  return (y >> FSHIFT) + (((y & (FIXED_1 - 1)) * 100) >> FSHIFT) / 100;
}

/** The 1- and 5-minute averages of runnable (R + D) tasks and of D tasks alone. */
export class LoadTracker {
  readonly runnable = [0, 0];
  readonly dload = [0, 0];

  feed(nRunning: number, nUninterruptible: number): void {
    step(this.runnable, nRunning + nUninterruptible);
    step(this.dload, nUninterruptible);
  }

  get loadAvg(): number {
    return loadValue(this.runnable[0]!);
  }

  get dloadAvg(): number {
    return loadValue(this.dload[0]!);
  }
}

function step(avg: number[], n: number): void {
  avg[0] = calcLoad(avg[0]!, EXP_1, n * FIXED_1);
  avg[1] = calcLoad(avg[1]!, EXP_5, n * FIXED_1);
}

export interface TaskCounts {
  nrRunning: number;
  nrSleeping: number;
  nrUninterruptible: number;
  nrStopped: number;
}

/** As cgroupstats counts: R running, S sleeping, D uninterruptible, T/t stopped; idle kernel threads (I) are none. */
export function countTaskStates(states: readonly string[]): TaskCounts {
  const c: TaskCounts = { nrRunning: 0, nrSleeping: 0, nrUninterruptible: 0, nrStopped: 0 };
  for (const s of states) {
    if (s === "R") c.nrRunning++;
    else if (s === "S") c.nrSleeping++;
    else if (s === "D") c.nrUninterruptible++;
    else if (s === "T" || s === "t") c.nrStopped++;
  }
  return c;
}

/** The name of the first known issue whose regex matches the stacks, or "" (AutoTracing.IssuesList). */
export function classifyIssue(issues: ReadonlyArray<readonly [string, string]>, text: string): string {
  for (const [name, pattern] of issues) if (new RegExp(pattern).test(text)) return name;
  return "";
}

export interface BlockedTask {
  tid: number;
  tgid: number;
  comm: string;
  frames: string[];
}

/** A task blocked in I/O waits in io_schedule (or its timeout variant) somewhere on its stack. */
export function inIoWait(t: BlockedTask): boolean {
  return t.frames.some((f) => f.startsWith("io_schedule"));
}

/** One block per task, like the kernel's sysrq-w dump: a header line, then the frames indented. */
export function formatBlocked(title: string, tasks: readonly BlockedTask[]): string {
  const blocks = tasks.map((t) => `task:${t.comm} state:D pid:${t.tid} tgid:${t.tgid}\n${t.frames.map((f) => ` ${f}`).join("\n")}`);
  return `stacktrace of D task in ${title}:\n${blocks.join("\n")}\n`;
}
