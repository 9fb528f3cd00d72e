// Shared by tests/bpf_metrics_*.test.ts: reading series out of an exposition, loop devices on scratch files.
import { closeSync, openSync, readFileSync, statSync, truncateSync } from "node:fs";
import { basename, join } from "node:path";
import { seriesLines } from "./daemon";

/** Lines of `name{...}` whose labels include every one of `labels`. */
export function matching(text: string, name: string, labels: Record<string, string> = {}): string[] {
  return seriesLines(text, `${name}{`).filter((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
}

const valueOfLine = (line: string) => Number(line.slice(line.lastIndexOf(" ") + 1));

/** The sum over the matching series; undefined when there is none. */
export function sumOf(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const lines = matching(text, name, labels);
  return lines.length ? lines.reduce((total, line) => total + valueOfLine(line), 0) : undefined;
}

export function sh(cmd: string[]): string {
  const p = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${p.stderr.toString()}`);
  return p.stdout.toString().trim();
}

export interface LoopDevice {
  /** /dev/loopN */
  path: string;
  /** `major:minor`, HUATUO's disk label. */
  disk: string;
  detach(): void;
}

/** A loop device over a new sparse file in `dir`; directIo makes its backing I/O bypass the page cache. */
export function attachLoop(dir: string, directIo: boolean, megabytes = 64): LoopDevice {
  const file = join(dir, `loop-${process.pid}-${Date.now()}.img`);
  closeSync(openSync(file, "w"));
  truncateSync(file, megabytes << 20);
  const path = sh(["losetup", "-f", "--show", ...(directIo ? ["--direct-io=on"] : []), file]);
  const disk = readFileSync(`/sys/block/${basename(path)}/dev`, "utf8").trim();
  return { path, disk, detach: () => sh(["losetup", "-d", path]) };
}

/** `major:minor` of the whole disk under the filesystem holding `path` (blk-throttle rules name whole disks). */
export function diskOf(path: string): string {
  const dev = statSync(path).dev;
  const id = `${Math.floor(dev / 256) & 0xfff}:${(dev & 0xff) | ((dev >> 12) & 0xfff00)}`;
  const sys = `/sys/dev/block/${id}`;
  try {
    readFileSync(join(sys, "partition"));
    return readFileSync(join(sys, "../dev"), "utf8").trim();
  } catch {
    return id;
  }
}
