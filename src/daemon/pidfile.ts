// A pidfile held under an exclusive flock for the daemon's lifetime, so a second instance refuses to start.
import { closeSync, ftruncateSync, openSync, readFileSync, unlinkSync, writeSync } from "node:fs";
import { flock, LOCK_EX, LOCK_NB } from "../sys/libc";

export const DEFAULT_PIDFILE = "/var/run/huatuo-bamai.pid";

export class PidFile {
  private constructor(
    readonly path: string,
    private readonly fd: number,
  ) {}

  /** Lock and write our pid; throws a one-line error naming the running instance when locked. */
  static acquire(path: string): PidFile {
    let fd: number;
    try {
      // Not O_TRUNC: the running instance's pid must survive our failed attempt.
      fd = openSync(path, "a+", 0o644);
    } catch (err) {
      throw new Error(`pidfile ${path}: ${(err as Error).message}`);
    }
    const lock = flock(fd, LOCK_EX | LOCK_NB);
    if (lock.value !== 0) {
      closeSync(fd);
      const holder = readHolder(path);
      throw new Error(`already running: ${path} is locked${holder ? ` by pid ${holder}` : ""}`);
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`, 0);
    return new PidFile(path, fd);
  }

  release(): void {
    try {
      unlinkSync(this.path);
    } finally {
      closeSync(this.fd);
    }
  }
}

function readHolder(path: string): string {
  try {
    return readFileSync(path, "utf8").trim();
  } catch {
    return "";
  }
}
