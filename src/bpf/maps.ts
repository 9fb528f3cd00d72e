// Map access for tracers: single keys, and whole-map dumps in one native call into buffers reused across scrapes.
import { nativeFailure } from "./errors";
import { asBuffer, type Native } from "./native";

// hb_map_info() output fields (lib/huatuo_bpf.h enum hb_map_info_field)
const MI_TYPE = 0, MI_KEY = 1, MI_VALUE = 2, MI_MAX = 3, MI_PERCPU = 4, MI_NCPUS = 5;
const PERCPU_RAW = 0;
const PERCPU_SUM = 1;

export interface ValueOptions {
  /** Per-CPU maps: every CPU's copy (each padded to 8 bytes) instead of their u64-word sum. */
  raw?: boolean;
}

/** The entries of one dump; valid until the next dump of the same map. */
export interface MapDump {
  count: number;
  keys: Buffer;
  values: Buffer;
  keySize: number;
  /** Bytes between consecutive values in `values`. */
  valueStride: number;
}

export class BpfMap {
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly percpu: boolean;
  readonly ncpus: number;
  private dumpBuffers?: { keys: Buffer; values: Buffer; raw: boolean };

  constructor(
    private readonly native: Native,
    private readonly handle: number,
    private readonly id: number,
    readonly name: string,
  ) {
    const info = Buffer.alloc(7 * 4);
    this.check(native.api.hb_map_info(handle, id, info), "info");
    const field = (i: number) => info.readUInt32LE(i * 4);
    this.type = field(MI_TYPE);
    this.keySize = field(MI_KEY);
    this.valueSize = field(MI_VALUE);
    this.maxEntries = field(MI_MAX);
    this.percpu = field(MI_PERCPU) === 1;
    this.ncpus = field(MI_NCPUS);
  }

  /** Size of one value as returned by lookup/dump with these options. */
  valueBytes(options: ValueOptions = {}): number {
    return this.percpu && options.raw ? Math.ceil(this.valueSize / 8) * 8 * this.ncpus : this.valueSize;
  }

  lookup(key: Uint8Array, options: ValueOptions = {}): Buffer | undefined {
    const value = Buffer.alloc(this.valueBytes(options));
    const found = this.native.api.hb_map_lookup(this.handle, this.id, asBuffer(key), value, this.flags(options));
    return this.check(found, "lookup") === 1 ? value : undefined;
  }

  /** flags: BPF_ANY (0), BPF_NOEXIST (1), BPF_EXIST (2). Per-CPU maps take every CPU's copy (raw layout). */
  update(key: Uint8Array, value: Uint8Array, flags = 0): void {
    this.check(this.native.api.hb_map_update(this.handle, this.id, asBuffer(key), asBuffer(value), flags), "update");
  }

  /** Returns whether the key was present. */
  delete(key: Uint8Array): boolean {
    return this.check(this.native.api.hb_map_delete(this.handle, this.id, asBuffer(key)), "delete") === 1;
  }

  /** Every entry (up to max_entries) in one native call. */
  dump(options: ValueOptions = {}): MapDump {
    const raw = options.raw === true;
    const stride = this.valueBytes(options);
    if (!this.dumpBuffers || this.dumpBuffers.raw !== raw) {
      this.dumpBuffers = {
        keys: Buffer.alloc(this.keySize * this.maxEntries),
        values: Buffer.alloc(stride * this.maxEntries),
        raw,
      };
    }
    const { keys, values } = this.dumpBuffers;
    const count = this.check(
      this.native.api.hb_map_dump(this.handle, this.id, keys, values, this.maxEntries, this.flags(options)),
      "dump",
    );
    return { count, keys, values, keySize: this.keySize, valueStride: stride };
  }

  private flags(options: ValueOptions): number {
    return options.raw ? PERCPU_RAW : PERCPU_SUM;
  }

  private check(ret: number, op: string): number {
    if (ret >= 0) return ret;
    throw nativeFailure(`${op} map ${this.name}`, this.native.error(this.handle));
  }
}
