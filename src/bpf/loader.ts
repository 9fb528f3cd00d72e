// The loader: open → set constants → choose programs → load → attach, falling back hook by hook to the next
// candidate when one cannot load or attach here, and recording what was used and why the others were not.
import { embeddedAssets } from "./embedded";
import { BpfError } from "./errors";
import { probeFeatures, type KernelFeatures } from "./features";
import {
  candidateLabel,
  describeMissing,
  selectCandidates,
  type Chosen,
  type HookSpec,
  type SelectionOptions,
} from "./hooks";
import { loadNative, type Native } from "./native";
import { BpfObject, constant } from "./object";

/** Where a tracer's programs send events: a ring buffer (5.8+), else a perf buffer. */
export interface EventChannel {
  ringbuf: string;
  perfbuf: string;
  /** The `.rodata` bool the programs test to output through the perf buffer instead. */
  perfFlag: string;
  /**
   * Ring bytes per possible CPU, for programs rate-limited per CPU: the ring then holds a whole second of every CPU's
   * budget, bursts included (perf buffers are per CPU already).
   */
  ringBytesPerCpu?: number;
}

export interface TracerBpf {
  /** The object's name: `bpf/<object>.bpf.c`. */
  object: string;
  hooks: HookSpec[];
  /** `.rodata` constants by variable name (see `constant` in object.ts). */
  constants?: Record<string, Uint8Array>;
  events?: EventChannel;
}

export interface LoadOptions extends SelectionOptions {
  /** External BTF for kernels without /sys/kernel/btf/vmlinux (default: configureBpf's). */
  btfPath?: string;
  /** Probed features to use instead of probing (tests). */
  features?: KernelFeatures;
  /** Object bytes to use instead of the embedded object (tests). */
  objectBytes?: Uint8Array;
  /** Send events through the perf buffer even where ring buffers exist (tests). */
  noRingbuf?: boolean;
}

// Retrying with another candidate cannot fix these.
const FATAL_CODES = new Set(["EPERM", "ENOMEM", "E2BIG", "LIBBPF_FORMAT"]);

let probed: KernelFeatures | undefined;
let externalBtf: string | undefined;

/** Daemon-wide setting: a BTF file (btfhub style) for kernels without /sys/kernel/btf/vmlinux. */
export function configureBpf(options: { btfPath?: string }): void {
  externalBtf = options.btfPath || undefined;
  probed = undefined;
}

/** Probes the kernel once per process (tracefs gets mounted here when absent). */
export async function kernelFeatures(options: { btfPath?: string } = {}): Promise<KernelFeatures> {
  const native = await loadNative();
  if (options.btfPath) return probeFeatures(native, options);
  probed ??= probeFeatures(native, { btfPath: externalBtf });
  return probed;
}

async function objectBytes(spec: TracerBpf, options: LoadOptions): Promise<Uint8Array> {
  if (options.objectBytes) return options.objectBytes;
  const path = (await embeddedAssets()).bpfObjects[spec.object];
  if (!path) throw new BpfError(`load ${spec.object}`, "no such embedded BPF object", { hint: "rebuild the agent" });
  return Bun.file(path).bytes();
}

/** The program whose load failed, from libbpf's first warning ("prog 'x': BPF program load failed: ..."). */
function failedProgram(err: BpfError): string | undefined {
  return /prog '([^']+)'/.exec(err.message)?.[1];
}

/** Unselected candidates' programs are not loaded: a tp_btf program without its BTF target would fail the load. */
function chooseProgram(object: BpfObject, hooks: HookSpec[], chosen: Chosen[]): void {
  const wanted = new Set(chosen.map((c) => c.candidate.program));
  for (const hook of hooks) {
    for (const candidate of hook.candidates) object.setAutoload(candidate.program, wanted.has(candidate.program));
  }
}

/** Before 5.8 there is no ring buffer map to create: the programs switch to the perf buffer. */
function chooseEventMap(object: BpfObject, events: EventChannel | undefined, perf: boolean): void {
  if (!events) return;
  object.setConstant(events.perfFlag, constant.bool(perf));
  if (perf) object.setMapAutocreate(events.ringbuf, false);
  else if (events.ringBytesPerCpu) object.sizeRingPerCpu(events.ringbuf, events.ringBytesPerCpu);
  object.eventMap = perf ? events.perfbuf : events.ringbuf;
}

/** Loads and attaches one selection; returns the failed candidate's label and reason to retry without it. */
function tryLoad(
  object: BpfObject,
  spec: TracerBpf,
  chosen: Chosen[],
  perf: boolean,
): { label: string; reason: string } | undefined {
  for (const [name, value] of Object.entries(spec.constants ?? {})) object.setConstant(name, value);
  chooseEventMap(object, spec.events, perf);
  chooseProgram(object, spec.hooks, chosen);
  try {
    object.load();
  } catch (err) {
    const culprit = err instanceof BpfError && !FATAL_CODES.has(err.code) ? failedProgram(err) : undefined;
    const failed = chosen.find((c) => c.candidate.program === culprit);
    if (!failed) throw err;
    return { label: candidateLabel(failed.candidate), reason: (err as Error).message };
  }
  for (const c of chosen) {
    try {
      object.attach(c.candidate.program, c.candidate.kind, c.target, c.candidate.frequency);
    } catch (err) {
      if (!(err instanceof BpfError) || FATAL_CODES.has(err.code)) throw err;
      return { label: candidateLabel(c.candidate), reason: err.message };
    }
  }
  return undefined;
}

function noHook(spec: TracerBpf, missing: ReturnType<typeof selectCandidates>["missing"]): BpfError {
  const first = missing[0]!;
  const unsupported = missing.every((m) => m.attempts.every((a) => a.status === "skipped"));
  return new BpfError(`attach ${spec.object} hook ${first.hook}`, describeMissing(first), { unsupported });
}

function open(native: Native, spec: TracerBpf, bytes: Uint8Array, features: KernelFeatures): BpfObject {
  return BpfObject.open(native, spec.object, bytes, features.btfPath);
}

/**
 * Loads a tracer's object and attaches every hook through its first working candidate. Throws a BpfError;
 * `unsupported` is set when this kernel lacks what the tracer needs (no BTF, no usable hook).
 */
export async function loadTracer(spec: TracerBpf, options: LoadOptions = {}): Promise<BpfObject> {
  const native = await loadNative();
  const features = options.features ?? (await kernelFeatures({ btfPath: options.btfPath }));
  if (!features.coreBtf.available) {
    throw new BpfError(`load ${spec.object}`, features.coreBtf.reason ?? "no BTF", { unsupported: true });
  }
  const bytes = await objectBytes(spec, options);
  const failed = new Map<string, string>();
  for (;;) {
    const selection = selectCandidates(spec.hooks, features, options, failed);
    if (selection.missing.length) throw noHook(spec, selection.missing);
    const object = open(native, spec, bytes, features);
    let retry: { label: string; reason: string } | undefined;
    try {
      retry = tryLoad(object, spec, selection.chosen, options.noRingbuf === true || !features.ringbuf);
    } catch (err) {
      object.close();
      throw err;
    }
    if (!retry) {
      object.hooks = selection.reports.map((report) => {
        const c = selection.chosen.find((chosen) => chosen.hook.name === report.hook);
        if (!c) return report;
        return { ...report, attached: c.label, attempts: [...report.attempts, { candidate: c.label, status: "attached" }] };
      });
      return object;
    }
    object.close();
    failed.set(retry.label, retry.reason);
  }
}

/** Whether an error means "not on this kernel" (report unsupported) rather than a failure. */
export function isUnsupported(err: unknown): boolean {
  return err instanceof BpfError && err.unsupported;
}
