// The BPF side of the CPU profiler: bpf/profile.bpf.c on a cpu-clock perf event on every CPU, filtered by process or
// cgroup, then one dump of the in-kernel counts and a lookup of each stack they reference.
import { decodeProfileKey } from "../bpf/gen/profile";
import { isUnsupported, loadTracer, type TracerBpf } from "../bpf/loader";
import type { BpfMap } from "../bpf/maps";
import { constant, type BpfObject } from "../bpf/object";
import { UnsupportedError } from "../framework/types";

/** PERF_TYPE_SOFTWARE:PERF_COUNT_SW_CPU_CLOCK: a timer, so it works in VMs without a PMU. */
const CPU_CLOCK = "1:0";
export const DEFAULT_FREQUENCY = 99;

export interface CgroupFilter {
  /** Cgroup ids (inode numbers of the cgroup directories) whose tasks are sampled. */
  ids: bigint[];
  /** `cpu`: the task's cgroup in the cpu controller (v1 or v2); `unified`: its cgroup on the v2 hierarchy. */
  hierarchy: "cpu" | "unified";
}

export interface SamplerOptions {
  frequency?: number;
  /** Only this process (tgid). */
  pid?: number;
  cgroup?: CgroupFilter;
}

export interface RawSample {
  pid: number;
  comm: string;
  /** Innermost first. */
  kstack: bigint[];
  ustack: bigint[];
  count: number;
}

export interface RawProfile {
  samples: RawSample[];
  /** Samples that passed the filters (counted or not). */
  total: number;
  /** Samples whose stack could not be stored (stack map full or a hash collision). */
  stackMissing: number;
  /** Samples lost because the count map was full. */
  dropped: number;
  hook: string;
}

function profileSpec(frequency: number, options: SamplerOptions): TracerBpf {
  const mode = options.cgroup ? (options.cgroup.hierarchy === "cpu" ? 1 : 2) : 0;
  return {
    object: "profile",
    hooks: [{ name: "cpu-clock", candidates: [{ kind: "perf_event", program: "profile_sample", target: CPU_CLOCK, frequency }] }],
    constants: { filter_pid: constant.u32(options.pid ?? 0), filter_cgroup_mode: constant.u32(mode) },
  };
}

/** Loads and attaches the sampler; throws UnsupportedError when this kernel cannot run it. */
export async function startSampler(options: SamplerOptions = {}): Promise<BpfObject> {
  let object: BpfObject;
  try {
    object = await loadTracer(profileSpec(options.frequency ?? DEFAULT_FREQUENCY, options));
  } catch (err) {
    if (isUnsupported(err)) throw new UnsupportedError((err as Error).message);
    throw err;
  }
  // Until the ids are in, the filter matches nothing: the first milliseconds are lost, never misattributed.
  const cgroups = object.map("profile_cgroups");
  for (const id of options.cgroup?.ids ?? []) cgroups.update(constant.u64(id), Uint8Array.of(1));
  return object;
}

/** Reads what the sampler has counted so far. */
export function readSamples(object: BpfObject): RawProfile {
  const counts = object.map("profile_counts").dump();
  const stacks = new StackReader(object.map("profile_stacks"));
  const samples: RawSample[] = [];
  const keys = new DataView(counts.keys.buffer, counts.keys.byteOffset, counts.keys.byteLength);
  for (let i = 0; i < counts.count; i++) {
    const key = decodeProfileKey(keys, i * counts.keySize);
    const count = Number(counts.values.readBigUInt64LE(i * counts.valueStride));
    samples.push({ pid: key.pid, comm: key.comm, kstack: stacks.get(key.kstack_id), ustack: stacks.get(key.ustack_id), count });
  }
  const stats = object.map("profile_stats");
  const stat = (i: number) => Number(stats.lookup(constant.u32(i))?.readBigUInt64LE(0) ?? 0n);
  return { samples, total: stat(0), stackMissing: stat(1), dropped: stat(2), hook: object.hook };
}

/** Stack map values are PROFILE_MAX_DEPTH addresses ending at the first zero; each id is looked up once. */
class StackReader {
  private readonly cache = new Map<number, bigint[]>();

  constructor(private readonly map: BpfMap) {}

  get(id: number): bigint[] {
    if (id < 0) return [];
    let stack = this.cache.get(id);
    if (stack) return stack;
    const value = this.map.lookup(constant.u32(id));
    stack = [];
    for (let off = 0; value && off + 8 <= value.length; off += 8) {
      const addr = value.readBigUInt64LE(off);
      if (addr === 0n) break;
      stack.push(addr);
    }
    this.cache.set(id, stack);
    return stack;
  }
}
