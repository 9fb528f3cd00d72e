// iotracing's capture: block tracepoints and sched_switch for a while (bpf/iotracing.bpf.c), /proc/<pid>/io before
// and after, then the top processes by I/O with their disks and open files, and the stacks of long D-state waits.
// Deviation from the original (kprobes on ext4/xfs read/write_iter and rq_qos): file bytes come from /proc/<pid>/io
// (rchar/wchar, which also count pipes and sockets), files are those the process holds open, not per-inode bytes.
import { decodeBlockedKey, decodeBlockedValue, decodeIoKey, decodeIoValue, type IoValue } from "../bpf/gen/iotracing";
import type { HookSpec } from "../bpf/hooks";
import { isUnsupported, loadTracer } from "../bpf/loader";
import type { MapDump } from "../bpf/maps";
import { constant, type BpfObject } from "../bpf/object";
import { UnsupportedError } from "../framework/types";
import type { Container } from "../pod/types";
import { kernelSymbols } from "../procfs/kallsyms";
import { procPath, readTextIfExists } from "../procfs/root";
import { sleep } from "../framework/sleep";
import { ioDelta, ioSnapshot, openFiles, type OpenFiles, type ProcessIo } from "./io_procs";
import { containerOfPid } from "./procs";

const tracepoint = (name: string, program: string, target: string, optional = false): HookSpec => ({
  name, optional, candidates: [{ kind: "tracepoint", program, target }],
});

const HOOKS: HookSpec[] = [
  tracepoint("block_bio_queue", "iotracing_bio_queue", "block/block_bio_queue"),
  // latency and D-state stacks are extras: without them the byte accounting still stands
  tracepoint("block_rq_issue", "iotracing_rq_issue", "block/block_rq_issue", true),
  tracepoint("block_rq_complete", "iotracing_rq_complete", "block/block_rq_complete", true),
  tracepoint("sched_switch", "iotracing_switch", "sched/sched_switch", true),
];

export interface IoCaptureOptions {
  durationS: number;
  maxProc: number;
  maxFiles: number;
  /** D-state waits shorter than this are not reported. */
  minBlockMs: number;
  containers: readonly Container[];
  /** Kernel dev_t → disk name, from /proc/diskstats. */
  diskNames: ReadonlyMap<number, string>;
  signal?: AbortSignal;
}

export interface DiskIo {
  device: string;
  read_bytes: number;
  write_bytes: number;
  q2c_avg_us: number;
  d2c_avg_us: number;
  q2c_max_us: number;
  d2c_max_us: number;
}

interface PidIo {
  comm: string;
  disk_read: number;
  disk_write: number;
  devs: Set<number>;
  disks: DiskIo[];
}

export interface BlockedStack {
  pid: number;
  tid: number;
  comm: string;
  container_hostname: string;
  latency_us: number;
  count: number;
  stack: { back_trace: string[] };
}

export interface IoCapture {
  process_io_data: Array<Record<string, unknown>>;
  timeout_io_stack: BlockedStack[];
  hook: string;
}

async function load(minBlockMs: number): Promise<BpfObject> {
  try {
    return await loadTracer({ object: "iotracing", hooks: HOOKS, constants: { min_block_ns: constant.u64(BigInt(minBlockMs) * 1_000_000n) } });
  } catch (err) {
    if (isUnsupported(err)) throw new UnsupportedError((err as Error).message);
    throw err;
  }
}

function* entries<K, V>(dump: MapDump, key: (v: DataView, o: number) => K, value: (v: DataView, o: number) => V): Generator<[K, V]> {
  const kv = new DataView(dump.keys.buffer, dump.keys.byteOffset, dump.keys.byteLength);
  const vv = new DataView(dump.values.buffer, dump.values.byteOffset, dump.values.byteLength);
  for (let i = 0; i < dump.count; i++) yield [key(kv, i * dump.keySize), value(vv, i * dump.valueStride)];
}

const us = (ns: number) => Math.round(ns / 1000);

function diskIo(dev: number, v: IoValue, names: ReadonlyMap<number, string>): DiskIo {
  const avg = (total: number) => (v.completed ? us(total / v.completed) : 0);
  return {
    device: names.get(dev) ?? `${dev >>> 20}:${dev & 0xfffff}`,
    read_bytes: v.read_bytes, write_bytes: v.write_bytes,
    q2c_avg_us: avg(v.q2c_ns), d2c_avg_us: avg(v.d2c_ns), q2c_max_us: us(v.q2c_max_ns), d2c_max_us: us(v.d2c_max_ns),
  };
}

function blockIo(object: BpfObject, names: ReadonlyMap<number, string>): Map<number, PidIo> {
  const byPid = new Map<number, PidIo>();
  for (const [k, v] of entries(object.map("io_stats").dump(), decodeIoKey, decodeIoValue)) {
    let p = byPid.get(k.pid);
    if (!p) byPid.set(k.pid, (p = { comm: v.comm, disk_read: 0, disk_write: 0, devs: new Set(), disks: [] }));
    p.disk_read += v.read_bytes;
    p.disk_write += v.write_bytes;
    p.devs.add(k.dev);
    p.disks.push(diskIo(k.dev, v, names));
  }
  return byPid;
}

async function blockedStacks(object: BpfObject, opts: IoCaptureOptions): Promise<BlockedStack[]> {
  const kernel = await kernelSymbols().catch(() => undefined);
  const stacks = object.map("io_stacks");
  const list = [...entries(object.map("io_blocked").dump(), decodeBlockedKey, decodeBlockedValue)];
  list.sort((a, b) => b[1].max_ns - a[1].max_ns);
  return Promise.all(
    list.slice(0, opts.maxProc).map(async ([k, v]) => {
      const raw = k.stack_id < 0 ? undefined : stacks.lookup(constant.u32(k.stack_id));
      const frames: string[] = [];
      for (let off = 0; raw && off + 8 <= raw.length && raw.readBigUInt64LE(off) !== 0n; off += 8) {
        const addr = raw.readBigUInt64LE(off);
        frames.push(kernel ? kernel.format(addr) : `0x${addr.toString(16)}`);
      }
      const container = await containerOfPid(v.tgid, opts.containers);
      return {
        pid: v.tgid, tid: k.tid, comm: v.comm, container_hostname: container?.hostname ?? "",
        latency_us: us(v.max_ns), count: v.count, stack: { back_trace: frames },
      };
    }),
  );
}

/** Ranked by bytes at the disk, or caused at the storage layer when the disk I/O was someone else's (writeback). */
function ranked(byPid: Map<number, PidIo>, deltas: Map<number, ProcessIo>, n: number): number[] {
  const score = (pid: number) => {
    const p = byPid.get(pid);
    const d = deltas.get(pid);
    return Math.max((p?.disk_read ?? 0) + (p?.disk_write ?? 0), (d?.readBytes ?? 0) + (d?.writeBytes ?? 0));
  };
  const pids = [...new Set([...byPid.keys(), ...deltas.keys()])].filter((pid) => score(pid) > 0);
  return pids.sort((a, b) => score(b) - score(a) || a - b).slice(0, n);
}

/**
 * Open files of the processes doing block I/O, looked at every second while tracing: a writer that finishes
 * before the capture does (dd) is still named with its files.
 */
class FileWatch {
  readonly seen = new Map<number, { files: OpenFiles; container?: Container }>();

  constructor(private readonly opts: IoCaptureOptions) {}

  async look(object: BpfObject): Promise<void> {
    const devs = new Map<number, Set<number>>();
    for (const [k] of entries(object.map("io_stats").dump(), decodeIoKey, () => 0)) devs.set(k.pid, (devs.get(k.pid) ?? new Set()).add(k.dev));
    for (const [pid, on] of devs) {
      if (this.seen.has(pid)) continue;
      const [files, container] = await Promise.all([openFiles(pid, on), containerOfPid(pid, this.opts.containers)]);
      if (files.count > 0 || container) this.seen.set(pid, { files, container });
    }
  }

  async traceFor(object: BpfObject): Promise<void> {
    const end = performance.now() + this.opts.durationS * 1000;
    while (!this.opts.signal?.aborted && performance.now() < end) {
      await sleep(Math.min(1000, end - performance.now()), this.opts.signal);
      await this.look(object);
    }
  }
}

async function processRecord(pid: number, p: PidIo | undefined, d: ProcessIo | undefined, opts: IoCaptureOptions, watch: FileWatch) {
  const comm = (await readTextIfExists(procPath(String(pid), "comm")).catch(() => undefined))?.trim() || p?.comm || "";
  const early = watch.seen.get(pid);
  const [now, nowFiles] = await Promise.all([containerOfPid(pid, opts.containers), openFiles(pid, p?.devs ?? new Set())]);
  const container = now ?? early?.container;
  const files = nowFiles.count > 0 || !early ? nowFiles : early.files;
  return {
    pid, comm, container_hostname: container?.hostname ?? "",
    fs_read: d?.rchar ?? 0, fs_write: d?.wchar ?? 0,
    disk_read: p?.disk_read ?? 0, disk_write: p?.disk_write ?? 0,
    file_stat: files.paths.slice(0, opts.maxFiles), file_count: files.count,
    disks: p?.disks ?? [],
  };
}

/** Traces for `durationS` seconds (less if aborted) and assembles the record's process and stack lists. */
export async function captureIo(opts: IoCaptureOptions): Promise<IoCapture> {
  const before = await ioSnapshot();
  const object = await load(opts.minBlockMs);
  try {
    const watch = new FileWatch(opts);
    await watch.traceFor(object);
    const after = await ioSnapshot();
    const deltas = new Map([...after].map(([pid, io]) => [pid, ioDelta(before.get(pid), io)]));
    const byPid = blockIo(object, opts.diskNames);
    const top = ranked(byPid, deltas, opts.maxProc);
    const process_io_data = await Promise.all(top.map((pid) => processRecord(pid, byPid.get(pid), deltas.get(pid), opts, watch)));
    return { process_io_data, timeout_io_stack: await blockedStacks(object, opts), hook: object.hook };
  } finally {
    object.close();
  }
}
