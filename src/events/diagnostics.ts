// Context captured with hungtask and softlockup: kernel stacks of the tasks in D state (/proc/<pid>/task/<tid>/stack)
// and the backtraces of all CPUs, which only SysRq 'l' produces (printed into the kernel log and read back from it).
import { writeFileSync } from "node:fs";
import { listDir, pathExists, procPath, readTextSync } from "../procfs/root";
import { bootTimeMs, formatKmsgLine, KmsgTail } from "./kmsg";

/** Bounds on what one event carries. */
const MAX_BLOCKED_TASKS = 256;
const MAX_TEXT = 256 * 1024;
/** NMI backtraces are printed from NMI context and flushed to the log shortly after the SysRq write returns. */
const FLUSH_WAIT_MS = 300;
/** kernel.sysrq bit that enables "dumps of processes etc." (Documentation/admin-guide/sysrq.rst); 1 enables all. */
const SYSRQ_ENABLE_DUMP = 0x8;

/** The state letter of a /proc/<pid>/stat line: the field after the parenthesised comm. */
export function statState(stat: string): string {
  return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
}

/** `[<0>] io_schedule+0x46/0x70` → `io_schedule+0x46/0x70` (addresses are hidden from /proc anyway). */
export function stackFrames(text: string): string[] {
  return text.split("\n").map((l) => l.replace(/^\[<[0-9a-fx]+>\]\s*/, "").trim()).filter(Boolean);
}

function taskStack(pid: string, tid: string): string | undefined {
  try {
    if (statState(readTextSync(procPath(pid, "task", tid, "stat"))) !== "D") return undefined;
    const comm = readTextSync(procPath(pid, "task", tid, "comm")).trim();
    const frames = stackFrames(readTextSync(procPath(pid, "task", tid, "stack")));
    return [`task:${comm} state:D pid:${tid} tgid:${pid}`, ...frames.map((f) => `  ${f}`)].join("\n");
  } catch {
    return undefined; // exited meanwhile, or no CONFIG_STACKTRACE
  }
}

/** Every D-state task with its kernel stack, like SysRq 'w' prints them. */
export function blockedTaskStacks(): string {
  const out: string[] = [];
  for (const pid of listDir(procPath()).filter((d) => /^\d+$/.test(d))) {
    for (const tid of listDir(procPath(pid, "task"))) {
      const stack = taskStack(pid, tid);
      if (stack) out.push(stack);
      if (out.length >= MAX_BLOCKED_TASKS) return `${out.join("\n")}\n(more blocked tasks not shown)`;
    }
  }
  return clamp(out.join("\n"));
}

function clamp(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}\n(truncated)` : text;
}

/** Why all-CPU backtraces may not be taken here, or undefined when they may. */
function sysrqRefusal(): string | undefined {
  if (!pathExists(procPath("sysrq-trigger"))) return "/proc/sysrq-trigger missing (kernel without CONFIG_MAGIC_SYSRQ)";
  let mask: number;
  try {
    mask = Number(readTextSync(procPath("sys/kernel/sysrq")).trim());
  } catch {
    return "kernel.sysrq unreadable";
  }
  // /proc/sysrq-trigger ignores kernel.sysrq; we honour the administrator's choice anyway
  if (mask !== 1 && !(mask & SYSRQ_ENABLE_DUMP)) return `kernel.sysrq=${mask} does not allow dumps (bit 0x8)`;
  return undefined;
}

export interface Backtraces {
  /** Whether SysRq 'l' ran; otherwise `text` says why not. */
  captured: boolean;
  text: string;
}

/**
 * SysRq 'l' (backtrace of all active CPUs) and the kernel log lines it produced, as the original captures them.
 * Only when kernel.sysrq allows dumps: otherwise, and when it fails, the text says why.
 */
export async function allCpuBacktraces(): Promise<Backtraces> {
  const refusal = sysrqRefusal();
  if (refusal) return { captured: false, text: `not captured: ${refusal}` };
  const tail = new KmsgTail();
  try {
    tail.open();
    writeFileSync(procPath("sysrq-trigger"), "l");
    await Bun.sleep(FLUSH_WAIT_MS);
    const boot = bootTimeMs();
    return { captured: true, text: clamp(tail.read().map((r) => formatKmsgLine(r, boot)).join("\n")) };
  } catch (err) {
    return { captured: false, text: `not captured: ${(err as Error).message}` };
  } finally {
    tail.close();
  }
}
