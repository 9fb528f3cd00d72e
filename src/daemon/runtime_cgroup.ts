// The agent's own resource limits ([RuntimeCgroup], --enable-cgroup): a `huatuo-bamai` cgroup with a startup CPU
// quota and a memory limit, raised to the running CPU quota once started, removed on exit.
// Always the real /sys/fs/cgroup and /proc/self, never --procfs-prefix: like /proc/self, this is about this process.
import { mkdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Config } from "../config/schema";
import type { Logger } from "../log";
import { detectRealLayout, type CgroupLayout } from "../pod/cgroup";

export const RUNTIME_CGROUP_NAME = "huatuo-bamai";
const CFS_PERIOD_US = 100_000;
/** The kernel rejects CFS quotas under 1 ms with EINVAL (kernel/sched/core.c, min_cfs_quota_period). */
const MIN_CFS_QUOTA_US = 1_000;

/** One line naming the file and the errno: `write /sys/fs/cgroup/cpu/huatuo-bamai/cpu.cfs_quota_us: EINVAL (invalid argument)`. */
export class CgroupFileError extends Error {
  constructor(op: string, path: string, err: unknown) {
    const e = err as NodeJS.ErrnoException;
    const why = /^[A-Z0-9]+: ([^,]+)/.exec(e.message ?? "")?.[1];
    super(`${op} ${path}: ${e.code ?? e.message}${why ? ` (${why})` : ""}`);
  }
}

function write(path: string, value: string): void {
  try {
    writeFileSync(path, value);
  } catch (err) {
    throw new CgroupFileError("write", path, err);
  }
}

export function cpuQuotaUs(cores: number): number {
  return Math.max(Math.round(cores * CFS_PERIOD_US), MIN_CFS_QUOTA_US);
}

/** Where this process sits now, per v1 controller ("0::" is the v2 entry), from /proc/self/cgroup. */
function currentCgroups(): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    for (const c of m[1]!.split(",")) out.set(c, m[2]!);
  }
  return out;
}

/** One hierarchy's piece of the runtime cgroup: its directory and the cgroup to return to on exit. */
interface Member {
  root: string;
  dir: string;
  origin: string;
}

export class RuntimeCgroup {
  private constructor(
    readonly version: 1 | 2,
    private readonly cpu: Member,
    private readonly members: Member[],
    private readonly cfg: Config["RuntimeCgroup"],
    private readonly log: Logger,
  ) {}

  /** Create the cgroup with the startup CPU limit and the memory limit, then move this process (all threads) in. */
  static create(cfg: Config["RuntimeCgroup"], log: Logger, layout: CgroupLayout = detectRealLayout()): RuntimeCgroup {
    const origin = currentCgroups();
    const member = (root: string, key: string): Member => ({ root, dir: join(root, RUNTIME_CGROUP_NAME), origin: origin.get(key) ?? "/" });
    // Hybrid hosts keep cpu and memory on v1; only a unified host uses the cgroup2 tree.
    const cpuRoot = layout.v1.get("cpu");
    const memRoot = layout.v1.get("memory");
    let rc: RuntimeCgroup;
    if (layout.mode === "unified" && layout.unified) {
      const m = member(layout.unified, "");
      rc = new RuntimeCgroup(2, m, [m], cfg, log);
    } else if (cpuRoot && memRoot) {
      const cpu = member(cpuRoot, "cpu");
      rc = new RuntimeCgroup(1, cpu, cpuRoot === memRoot ? [cpu] : [cpu, member(memRoot, "memory")], cfg, log);
    } else {
      throw new Error("no cgroup cpu and memory controllers mounted under /sys/fs/cgroup");
    }
    rc.setup();
    return rc;
  }

  get dirs(): string[] {
    return this.members.map((m) => m.dir);
  }

  private setup(): void {
    for (const m of this.members) mkdirExisting(m.dir);
    if (this.version === 2) this.enableControllers();
    try {
      this.writeCpu(this.cfg.LimitInitCPU);
      this.writeMemory();
      for (const m of this.members) write(join(m.dir, "cgroup.procs"), String(process.pid));
    } catch (err) {
      try {
        this.remove();
      } catch {
        // The write error above is the one worth reporting.
      }
      throw err;
    }
    this.log.info("runtime cgroup applied", {
      dirs: this.dirs.join(","), cpu_cores: this.cfg.LimitInitCPU, memory_mb: this.cfg.LimitMem,
    });
  }

  /** v2 files appear only for controllers enabled in the parent's subtree_control; enable what the root offers. */
  private enableControllers(): void {
    for (const c of ["+cpu", "+memory"]) {
      try {
        writeFileSync(join(this.cpu.root, "cgroup.subtree_control"), c);
      } catch (err) {
        this.log.debug("cannot enable controller, the limit write will report it", { controller: c, err });
      }
    }
  }

  private writeCpu(cores: number): void {
    const quota = cpuQuotaUs(cores);
    if (this.version === 2) return write(join(this.cpu.dir, "cpu.max"), `${quota} ${CFS_PERIOD_US}`);
    write(join(this.cpu.dir, "cpu.cfs_period_us"), String(CFS_PERIOD_US));
    write(join(this.cpu.dir, "cpu.cfs_quota_us"), String(quota));
  }

  private writeMemory(): void {
    const bytes = String(this.cfg.LimitMem * 1024 * 1024);
    const mem = this.members[this.members.length - 1]!;
    write(join(mem.dir, this.version === 2 ? "memory.max" : "memory.limit_in_bytes"), bytes);
  }

  /** Startup is over: allow LimitCPU. */
  raiseCpu(): void {
    this.writeCpu(this.cfg.LimitCPU);
    this.log.info("runtime cgroup cpu limit raised", { cpu_cores: this.cfg.LimitCPU });
  }

  /** Move back where the process came from (the hierarchy root if that is gone), then remove the directories. */
  remove(): void {
    const errors: Error[] = [];
    for (const m of this.members) {
      try {
        moveBack(m);
        rmdirSync(m.dir);
      } catch (err) {
        errors.push(err instanceof CgroupFileError ? err : new CgroupFileError("rmdir", m.dir, err));
      }
    }
    if (errors.length > 0) throw errors[0];
  }
}

function moveBack(m: Member): void {
  try {
    write(join(m.root, m.origin, "cgroup.procs"), String(process.pid));
  } catch {
    write(join(m.root, "cgroup.procs"), String(process.pid));
  }
}

function mkdirExisting(dir: string): void {
  try {
    mkdirSync(dir);
  } catch (err) {
    // A leftover from a killed run is reused: the pidfile lock already guarantees no other instance owns it.
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw new CgroupFileError("mkdir", dir, err);
  }
}
