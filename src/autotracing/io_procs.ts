// The process side of iotracing, from /proc: I/O counters (/proc/<pid>/io) to diff over a capture, and the files a
// process holds open (/proc/<pid>/fd), the ones on the disks it did I/O to first.
import { readdir, readlink, stat } from "node:fs/promises";
import { procPath, readTextIfExists } from "../procfs/root";
import { listPids } from "./procs";

/** Bytes through read/write syscalls (rchar, wchar) and bytes the process caused at the storage layer. */
export interface ProcessIo {
  rchar: number;
  wchar: number;
  readBytes: number;
  writeBytes: number;
}

export function parseProcIo(text: string): ProcessIo | undefined {
  const kv = new Map(text.split("\n").map((l) => l.split(":").map((s) => s.trim()) as [string, string]));
  const n = (k: string) => Number(kv.get(k));
  const io = { rchar: n("rchar"), wchar: n("wchar"), readBytes: n("read_bytes"), writeBytes: n("write_bytes") };
  return Object.values(io).every(Number.isFinite) ? io : undefined;
}

/** /proc/<pid>/io of every process (only root may read other users' files). */
export async function ioSnapshot(): Promise<Map<number, ProcessIo>> {
  const pids = await listPids();
  const texts = await Promise.all(pids.map((pid) => readTextIfExists(procPath(String(pid), "io")).catch(() => undefined)));
  const out = new Map<number, ProcessIo>();
  pids.forEach((pid, i) => {
    const io = texts[i] && parseProcIo(texts[i]!);
    if (io) out.set(pid, io);
  });
  return out;
}

/** Counters gained between two snapshots; a process that started meanwhile counts from zero. */
export function ioDelta(before: ProcessIo | undefined, after: ProcessIo): ProcessIo {
  const b = before ?? { rchar: 0, wchar: 0, readBytes: 0, writeBytes: 0 };
  const d = (k: keyof ProcessIo) => Math.max(0, after[k] - b[k]);
  return { rchar: d("rchar"), wchar: d("wchar"), readBytes: d("readBytes"), writeBytes: d("writeBytes") };
}

/** The kernel's dev_t (major << 20 | minor), as block tracepoints report a disk. */
export function kernelDev(major: number, minor: number): number {
  return ((major << 20) | minor) >>> 0;
}

/** glibc's st_dev encoding to the kernel's dev_t. */
export function statDevToKernel(dev: bigint): number {
  const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
  const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
  return kernelDev(major, minor);
}

export interface OpenFiles {
  /** Paths, files on `onDevices` first. */
  paths: string[];
  /** Regular files and block devices open. */
  count: number;
}

/** Regular files and block devices among the process's descriptors; a file on a traced disk sorts first. */
export async function openFiles(pid: number, onDevices: ReadonlySet<number>): Promise<OpenFiles> {
  const dir = procPath(String(pid), "fd");
  const fds = await readdir(dir).catch(() => [] as string[]);
  const found = await Promise.all(
    fds.map(async (fd) => {
      try {
        const [path, st] = await Promise.all([readlink(`${dir}/${fd}`), stat(`${dir}/${fd}`, { bigint: true })]);
        if (!st.isFile() && !st.isBlockDevice()) return undefined;
        const dev = statDevToKernel(st.isBlockDevice() ? st.rdev : st.dev);
        return { path, hot: onDevices.has(dev) };
      } catch {
        return undefined;
      }
    }),
  );
  const files = [...new Map(found.flatMap((f) => (f ? [[f.path, f.hot] as const] : []))).entries()];
  files.sort((a, b) => Number(b[1]) - Number(a[1]));
  return { paths: files.map(([p]) => p), count: files.length };
}
