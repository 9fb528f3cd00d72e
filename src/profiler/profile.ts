// One CPU profile: sample for a while, read the counts, name every frame (kernel and user), fold into a flame graph.
import { kernelSymbols, type Kallsyms } from "../procfs/kallsyms";
import { FlameTree, type FlameFrame } from "./flame";
import { DEFAULT_FREQUENCY, readSamples, startSampler, type RawProfile, type RawSample, type SamplerOptions } from "./sampler";
import { UNKNOWN_FRAME, UserSymbolizer } from "./user_symbols";

export interface ProfileOptions extends SamplerOptions {
  durationMs: number;
  signal?: AbortSignal;
}

/** A distinct stack with its samples; frames outermost first, the process name as the first frame. */
export interface ProfileStack {
  pid: number;
  comm: string;
  frames: string[];
  /** How many of `frames`, from the end, are kernel frames. */
  kernelFrames: number;
  count: number;
}

export interface Profile {
  stacks: ProfileStack[];
  flamedata: FlameFrame[];
  /** Samples in the flame graph. */
  total: number;
  stackMissing: number;
  dropped: number;
  hook: string;
  frequency: number;
  durationMs: number;
}

/** Samples for `durationMs` (less when `signal` aborts), then symbolizes. */
export async function captureProfile(options: ProfileOptions): Promise<Profile> {
  const started = performance.now();
  const object = await startSampler(options);
  let raw: RawProfile;
  try {
    await sleep(options.durationMs, options.signal);
    raw = readSamples(object);
  } finally {
    object.close();
  }
  const stacks = await symbolize(raw.samples);
  const tree = new FlameTree();
  for (const s of stacks) tree.add(s.frames, s.count);
  return {
    stacks: stacks.sort((a, b) => b.count - a.count),
    flamedata: tree.toFlamedata(),
    total: tree.total,
    stackMissing: raw.stackMissing,
    dropped: raw.dropped,
    hook: raw.hook,
    frequency: options.frequency ?? DEFAULT_FREQUENCY,
    durationMs: Math.round(performance.now() - started),
  };
}

/** Names frames; a return address points after its call, so callers are looked up one byte earlier. */
export async function symbolize(samples: RawSample[]): Promise<ProfileStack[]> {
  const kernel = await kernelSymbols().catch(() => undefined);
  const user = new UserSymbolizer();
  try {
    for (const pid of new Set(samples.filter((s) => s.ustack.length).map((s) => s.pid))) await user.loadProcess(pid);
    return samples.map((s) => {
      const ustack = s.ustack.map((addr, i) => user.resolve(s.pid, Number(addr) - (i > 0 ? 1 : 0)));
      const kstack = s.kstack.map((addr, i) => kernelLabel(kernel, i > 0 ? addr - 1n : addr));
      const frames = [s.comm || UNKNOWN_FRAME, ...ustack.reverse(), ...kstack.reverse()];
      return { pid: s.pid, comm: s.comm, frames, kernelFrames: kstack.length, count: s.count };
    });
  } finally {
    user.close();
  }
}

function kernelLabel(kernel: Kallsyms | undefined, addr: bigint): string {
  const sym = kernel?.lookup(addr);
  if (!sym) return UNKNOWN_FRAME;
  return sym.module ? `${sym.name} [${sym.module}]` : sym.name;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}
