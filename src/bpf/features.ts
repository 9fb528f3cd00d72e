// Kernel feature probes for the loader: BTF (kernel or external), tracefs (mounted when absent), kprobes,
// kernel functions a kprobe can attach to, and ring buffer support.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Native } from "./native";

export const KERNEL_BTF = "/sys/kernel/btf/vmlinux";
const TRACEFS_MOUNTS = ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"];
const KPROBE_PMU = "/sys/bus/event_source/devices/kprobe/type";
const BPF_MAP_TYPE_RINGBUF = 27;

export interface Availability {
  available: boolean;
  reason?: string;
}

/** What hook selection needs to know about the kernel; tests substitute their own. */
export interface HookEnvironment {
  /** The kernel's own BTF: BTF-typed tracepoints need it (an external file is not enough). */
  kernelBtf: Availability;
  tracefs: Availability;
  kprobes: Availability;
  hasTracepoint(group: string, name: string): boolean;
  /** The attachable symbol for a function (`name` or a compiler clone like `name.isra.0`), if any. */
  resolveFunction(name: string): string | undefined;
}

export interface KernelFeatures extends HookEnvironment {
  /** BTF for CO-RE relocations, the kernel's or an external file: every object needs it. */
  coreBtf: Availability;
  /** External BTF to pass to libbpf when the kernel has none ("" = the kernel's). */
  btfPath: string;
  tracefsPath?: string;
  /** BPF ring buffers (5.8+); perf buffers otherwise. */
  ringbuf: boolean;
}

export interface FeatureOptions {
  /** A BTF file for kernels without /sys/kernel/btf/vmlinux (btfhub style). */
  btfPath?: string;
  kernelBtf?: string;
}

function probeBtf(options: FeatureOptions): Pick<KernelFeatures, "kernelBtf" | "coreBtf" | "btfPath"> {
  const kernelPath = options.kernelBtf ?? KERNEL_BTF;
  if (existsSync(kernelPath)) return { kernelBtf: { available: true }, coreBtf: { available: true }, btfPath: "" };
  const kernelBtf = { available: false, reason: `no kernel BTF (${kernelPath}, CONFIG_DEBUG_INFO_BTF)` };
  if (options.btfPath && existsSync(options.btfPath)) {
    return { kernelBtf, coreBtf: { available: true }, btfPath: options.btfPath };
  }
  const reason = options.btfPath
    ? `${kernelBtf.reason} and the configured BTF file ${options.btfPath} does not exist`
    : `${kernelBtf.reason} and no external BTF file configured`;
  return { kernelBtf, coreBtf: { available: false, reason }, btfPath: "" };
}

function isMounted(path: string): boolean {
  return existsSync(join(path, "events"));
}

/** The tracefs mount point, mounting it at /sys/kernel/tracing when nothing is mounted yet. */
function probeTracefs(native: Native): { tracefs: Availability; tracefsPath?: string } {
  const mounted = TRACEFS_MOUNTS.find(isMounted);
  if (mounted) return { tracefs: { available: true }, tracefsPath: mounted };
  const target = TRACEFS_MOUNTS[0]!;
  if (!existsSync(target)) return { tracefs: { available: false, reason: `tracefs unavailable: no ${target}` } };
  if (native.api.hb_mount_tracefs(target) < 0) {
    const { message } = native.error(-1);
    return { tracefs: { available: false, reason: `tracefs unavailable: ${message}` } };
  }
  return { tracefs: { available: true }, tracefsPath: target };
}

function probeKprobes(tracefsPath: string | undefined): Availability {
  // perf's kprobe PMU (4.17+) or the legacy tracefs interface; CONFIG_KPROBES provides both
  if (existsSync(KPROBE_PMU)) return { available: true };
  if (tracefsPath && existsSync(join(tracefsPath, "kprobe_events"))) return { available: true };
  if (tracefsPath) return { available: false, reason: "kprobes unavailable: kernel built without CONFIG_KPROBES" };
  return { available: false, reason: "kprobes unavailable: no kprobe PMU and no tracefs" };
}

/** Symbols a kprobe may target: ftrace's list when present (what HUATUO used), else kallsyms text symbols. */
function loadSymbols(tracefsPath: string | undefined): Set<string> {
  const listed = tracefsPath ? join(tracefsPath, "available_filter_functions") : "";
  if (listed && existsSync(listed)) {
    return new Set(readFileSync(listed, "utf8").split("\n").map((line) => line.split(" ")[0]!));
  }
  const symbols = new Set<string>();
  for (const line of readFileSync("/proc/kallsyms", "utf8").split("\n")) {
    const [, type, name] = line.split(" ");
    if (name && (type === "t" || type === "T")) symbols.add(name);
  }
  return symbols;
}

/** Probes this kernel. Cheap parts run now; the symbol list is read on first use. */
export function probeFeatures(native: Native, options: FeatureOptions = {}): KernelFeatures {
  const btf = probeBtf(options);
  const { tracefs, tracefsPath } = probeTracefs(native);
  const kprobes = probeKprobes(tracefsPath);
  let symbols: Set<string> | undefined;
  return {
    ...btf,
    tracefs,
    tracefsPath,
    kprobes,
    ringbuf: native.api.hb_probe_map_type(BPF_MAP_TYPE_RINGBUF) === 1,
    hasTracepoint(group, name) {
      return tracefsPath !== undefined && existsSync(join(tracefsPath, "events", group, name, "id"));
    },
    resolveFunction(name) {
      symbols ??= loadSymbols(tracefsPath);
      if (symbols.has(name)) return name;
      // gcc clones keep the name with a suffix; `.cold` parts are not function entries
      for (const symbol of symbols) {
        if (symbol.startsWith(`${name}.`) && !symbol.includes(".cold")) return symbol;
      }
      return undefined;
    },
  };
}

