// One loaded BPF object (a native handle): constants, program selection, load, attach, maps and event readers.
import { describeAttached, type HookReport } from "./hooks";
import { BpfError, nativeFailure } from "./errors";
import { BpfMap } from "./maps";
import { asBuffer, type Native } from "./native";
import { EventReader, type ReaderOptions } from "./ringbuf";

// enum hb_attach_kind of lib/huatuo_bpf.h
const ATTACH_KIND = {
  tracepoint: 1,
  raw_tp: 2,
  tp_btf: 3,
  kprobe: 4,
  kretprobe: 5,
  perf_event: 6,
} as const;

/** Encoders for `.rodata` constants; the native side checks the size against the variable's. */
export const constant = {
  bool: (v: boolean) => Uint8Array.of(v ? 1 : 0),
  u32: (v: number) => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    return b;
  },
  u64: (v: number | bigint) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    return b;
  },
};

export interface ProgramStats {
  runTimeNs: number;
  runCount: number;
}

export class BpfObject {
  /** How each hook was attached; filled by the loader. */
  hooks: HookReport[] = [];
  /** The ring or perf buffer map the programs send events to, when the tracer has one. */
  eventMap?: string;
  private readonly maps = new Map<string, BpfMap>();
  private readonly readers = new Set<EventReader>();
  private closed = false;

  private constructor(
    private readonly native: Native,
    readonly handle: number,
    readonly name: string,
  ) {}

  /** Opens an object from its ELF bytes; btfPath is an external BTF file ("" = the kernel's). */
  static open(native: Native, name: string, bytes: Uint8Array, btfPath = ""): BpfObject {
    const handle = native.api.hb_new();
    if (handle < 0) throw nativeFailure(`open ${name}`, native.error(-1));
    const object = new BpfObject(native, handle, name);
    try {
      object.check(native.api.hb_open(handle, asBuffer(bytes), bytes.length, name, btfPath), `open ${name}`);
    } catch (err) {
      object.close();
      throw err;
    }
    return object;
  }

  /** The hooks in use, e.g. `tp_btf:sched/sched_wakeup,sched/sched_switch`. */
  get hook(): string {
    return describeAttached(this.hooks);
  }

  setConstant(variable: string, value: Uint8Array): void {
    const ret = this.native.api.hb_set_rodata(this.handle, variable, asBuffer(value), value.length);
    this.check(ret, `set constant ${variable}`);
  }

  setAutoload(program: string, on: boolean): void {
    this.check(this.native.api.hb_prog_autoload(this.handle, program, on ? 1 : 0), `select program ${program}`);
  }

  setMapAutocreate(map: string, on: boolean): void {
    this.check(this.native.api.hb_map_autocreate(this.handle, map, on ? 1 : 0), `select map ${map}`);
  }

  /** Before load: room for bytesPerCpu on every possible CPU in a ring buffer (never below its compiled size). */
  sizeRingPerCpu(map: string, bytesPerCpu: number): number {
    return this.check(this.native.api.hb_ringbuf_per_cpu(this.handle, map, bytesPerCpu), `size ring buffer ${map}`);
  }

  load(): void {
    this.check(this.native.api.hb_load(this.handle), `load ${this.name}`);
  }

  /** Attaches a loaded program; returns the link id. */
  attach(program: string, kind: keyof typeof ATTACH_KIND, target: string, frequency = 0): number {
    const ret = this.native.api.hb_attach(this.handle, program, ATTACH_KIND[kind], target, frequency);
    return this.check(ret, `attach ${kind} ${target}`);
  }

  map(name: string): BpfMap {
    let map = this.maps.get(name);
    if (!map) {
      const id = this.check(this.native.api.hb_map(this.handle, name), `map ${name}`);
      map = new BpfMap(this.native, this.handle, id, name);
      this.maps.set(name, map);
    }
    return map;
  }

  /** A reader over the tracer's event map (ring buffer, or perf buffer before 5.8). */
  events(options: ReaderOptions = {}): EventReader {
    if (!this.eventMap) throw new BpfError(`read events of ${this.name}`, "the tracer declares no event maps");
    return this.reader(this.eventMap, options);
  }

  /** A reader over a ring buffer or perf event array map. */
  reader(mapName: string, options: ReaderOptions = {}): EventReader {
    const id = this.check(
      this.native.api.hb_reader_open(this.handle, mapName, options.perfPages ?? 16),
      `read events from ${mapName}`,
    );
    const reader = new EventReader(this.native, this.handle, id, mapName, options.bufferBytes ?? 1 << 20);
    this.readers.add(reader);
    return reader;
  }

  /** Cumulative run time and count of a program (kernel.bpf_stats_enabled=1 makes them count). */
  programStats(program: string): ProgramStats {
    const out = Buffer.alloc(16);
    this.check(this.native.api.hb_prog_stats(this.handle, program, out), `stats of ${program}`);
    return { runTimeNs: Number(out.readBigUInt64LE(0)), runCount: Number(out.readBigUInt64LE(8)) };
  }

  /** Detaches everything and frees the kernel objects. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const reader of this.readers) reader.close();
    this.native.api.hb_free(this.handle);
  }

  private check(ret: number, step: string): number {
    if (ret >= 0) return ret;
    throw nativeFailure(step, this.native.error(this.handle), this.native.log(this.handle));
  }
}
