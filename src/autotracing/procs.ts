// Reads of /proc for the detectors: threads and their states, kernel stacks, a process's name, RSS, cgroup and
// container. A task that exits mid-read is simply absent.
import { readdir } from "node:fs/promises";
import type { Container } from "../pod/types";
import { procPath, readTextIfExists } from "../procfs/root";

export interface ThreadStat {
  tid: number;
  comm: string;
  /** The state letter: R, S, D, T, t, Z, X, I, P. */
  state: string;
}

/** `/proc/<pid>/stat`: the comm sits in parentheses and may itself hold spaces and ")". */
export function parseStat(tid: number, text: string): ThreadStat | undefined {
  const open = text.indexOf("(");
  const close = text.lastIndexOf(")");
  if (open < 0 || close < open) return undefined;
  const rest = text.slice(close + 2).split(" ");
  return { tid, comm: text.slice(open + 1, close), state: rest[0] ?? "" };
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readTextIfExists(path);
  } catch {
    return undefined; // ESRCH and friends: the task went away
  }
}

export async function threadStat(tid: number, pid = tid): Promise<ThreadStat | undefined> {
  const path = pid === tid ? procPath(String(tid), "stat") : procPath(String(pid), "task", String(tid), "stat");
  const text = await readIfPresent(path);
  return text === undefined ? undefined : parseStat(tid, text);
}

const numeric = (names: string[]) => names.filter((n) => /^\d+$/.test(n)).map(Number);

/** Every process id on the host. */
export async function listPids(): Promise<number[]> {
  return numeric(await readdir(procPath()));
}

/** Every thread of the host as [pid, tid]. */
export async function listThreads(): Promise<Array<[number, number]>> {
  const pids = await listPids();
  const lists = await Promise.all(pids.map((pid) => readdir(procPath(String(pid), "task")).catch(() => [] as string[])));
  return pids.flatMap((pid, i) => numeric(lists[i]!).map((tid) => [pid, tid] as [number, number]));
}

/** The frames of /proc/<tid>/stack without the `[<0>] ` address column (hidden as 0 anyway). */
export function parseKernelStack(text: string): string[] {
  return text
    .split("\n")
    .map((l) => l.replace(/^\[<[0-9a-f]+>\]\s*/, "").trim())
    .filter(Boolean);
}

export async function kernelStack(tid: number): Promise<string[]> {
  const text = await readIfPresent(procPath(String(tid), "stack"));
  return text === undefined ? [] : parseKernelStack(text);
}

export function processStatus(pid: number): Promise<string | undefined> {
  return readIfPresent(procPath(String(pid), "status"));
}

export async function tgidOf(tid: number): Promise<number> {
  const status = await processStatus(tid);
  const m = status && /^Tgid:\s*(\d+)/m.exec(status);
  return m ? Number(m[1]) : tid;
}

/** The container a process belongs to: the one whose cgroup path appears in /proc/<pid>/cgroup. */
export async function containerOfPid(pid: number, containers: readonly Container[]): Promise<Container | undefined> {
  if (containers.length === 0) return undefined;
  const text = await readIfPresent(procPath(String(pid), "cgroup"));
  if (!text) return undefined;
  const paths = text.split("\n").map((l) => l.slice(l.indexOf(":", l.indexOf(":") + 1) + 1));
  return containers.find((c) => c.cgroupPath && paths.some((p) => p === `/${c.cgroupPath}` || p.startsWith(`/${c.cgroupPath}/`)));
}
