// Hook candidates and their selection: each tracer lists, per hook, where it can attach in order of preference
// (stable tracepoints first); selection skips what this kernel cannot offer and records why.
import type { HookEnvironment } from "./features";

/**
 * - `tp_btf`: BTF-typed tracepoint (5.5+, kernel BTF), target `group/name`
 * - `raw_tp`: raw tracepoint (4.17+), target `group/name` (the group is only used to probe tracefs)
 * - `tracepoint`: classic tracepoint, target `group/name`
 * - `kprobe` / `kretprobe`: target a kernel function (compiler clones like `name.isra.0` are found)
 * - `perf_event`: target `<perf type>:<config>` sampled at `frequency` Hz on every online CPU
 */
export type HookKind = "tp_btf" | "raw_tp" | "tracepoint" | "kprobe" | "kretprobe" | "perf_event";

export interface HookCandidate {
  kind: HookKind;
  /** The BPF program (C function name) that serves this candidate. */
  program: string;
  target: string;
  frequency?: number;
}

export interface HookSpec {
  /** A short name for reports, e.g. `sched_switch`. */
  name: string;
  candidates: HookCandidate[];
  /** The tracer runs without it when no candidate works. */
  optional?: boolean;
}

export interface SelectionOptions {
  /** Skip every tracepoint kind (tests of the kprobe path). */
  noTracepoints?: boolean;
}

export interface Attempt {
  candidate: string;
  status: "skipped" | "failed" | "attached";
  reason?: string;
}

export interface HookReport {
  hook: string;
  /** The candidate in use, as `kind:target`. */
  attached?: string;
  attempts: Attempt[];
}

export interface Chosen {
  hook: HookSpec;
  candidate: HookCandidate;
  /** The target to attach to: a raw tracepoint's name without group, a kprobe's resolved symbol. */
  target: string;
  /** `kind:target` as reported, with a kprobe's resolved symbol. */
  label: string;
}

export interface Selection {
  chosen: Chosen[];
  reports: HookReport[];
  /** Required hooks without any usable candidate. */
  missing: HookReport[];
}

const TRACEPOINT_KINDS: ReadonlySet<HookKind> = new Set(["tp_btf", "raw_tp", "tracepoint"]);

export function candidateLabel(candidate: HookCandidate): string {
  return `${candidate.kind}:${candidate.target}`;
}

function splitTracepoint(target: string): [string, string] {
  const slash = target.indexOf("/");
  return slash < 0 ? ["", target] : [target.slice(0, slash), target.slice(slash + 1)];
}

function tracepointReason(candidate: HookCandidate, env: HookEnvironment): string | undefined {
  const [group, name] = splitTracepoint(candidate.target);
  if (candidate.kind === "tracepoint" && !env.tracefs.available) return env.tracefs.reason;
  if (candidate.kind === "tp_btf" && !env.kernelBtf.available) return env.kernelBtf.reason;
  // raw and BTF tracepoints attach by name without tracefs; probe it only when we can
  if (env.tracefs.available && !env.hasTracepoint(group, name)) return `tracepoint ${candidate.target} not found`;
  return undefined;
}

/** Why a candidate cannot work on this kernel, or its attach target when it may. */
function probeCandidate(
  candidate: HookCandidate,
  env: HookEnvironment,
  options: SelectionOptions,
): { target?: string; reason?: string } {
  if (TRACEPOINT_KINDS.has(candidate.kind)) {
    if (options.noTracepoints) return { reason: "tracepoints disabled by option" };
    const reason = tracepointReason(candidate, env);
    if (reason) return { reason };
    return { target: candidate.kind === "raw_tp" ? splitTracepoint(candidate.target)[1] : candidate.target };
  }
  if (candidate.kind === "kprobe" || candidate.kind === "kretprobe") {
    if (!env.kprobes.available) return { reason: env.kprobes.reason };
    const symbol = env.resolveFunction(candidate.target);
    return symbol ? { target: symbol } : { reason: `kernel function ${candidate.target} not found` };
  }
  return { target: candidate.target };
}

/** For each hook, the first candidate that may work and has not failed before (`failed`: label → reason). */
export function selectCandidates(
  hooks: HookSpec[],
  env: HookEnvironment,
  options: SelectionOptions,
  failed: ReadonlyMap<string, string>,
): Selection {
  const selection: Selection = { chosen: [], reports: [], missing: [] };
  for (const hook of hooks) {
    const report: HookReport = { hook: hook.name, attempts: [] };
    for (const candidate of hook.candidates) {
      const label = candidateLabel(candidate);
      const previous = failed.get(label);
      if (previous) {
        report.attempts.push({ candidate: label, status: "failed", reason: previous });
        continue;
      }
      const { target, reason } = probeCandidate(candidate, env, options);
      if (target === undefined) {
        report.attempts.push({ candidate: label, status: "skipped", reason });
        continue;
      }
      const shown = candidate.kind === "kprobe" || candidate.kind === "kretprobe" ? `${candidate.kind}:${target}` : label;
      selection.chosen.push({ hook, candidate, target, label: shown });
      break;
    }
    if (selection.chosen.at(-1)?.hook === hook) selection.reports.push(report);
    else if (hook.optional) selection.reports.push(report);
    else selection.missing.push(report);
  }
  return selection;
}

/** One line for a hook without a usable candidate: the last reason first, the rest after. */
export function describeMissing(report: HookReport): string {
  const last = report.attempts.at(-1);
  const rest = report.attempts.slice(0, -1).map((a) => `${a.candidate}: ${a.reason}`);
  const head = last ? `${last.candidate}: ${last.reason}` : "no candidates declared";
  return rest.length ? `${head} (also tried ${rest.join("; ")})` : head;
}

/** `tp_btf:sched/sched_wakeup,sched/sched_switch` — the hooks in use, grouped by kind. */
export function describeAttached(reports: HookReport[]): string {
  const byKind = new Map<string, string[]>();
  for (const report of reports) {
    if (!report.attached) continue;
    const colon = report.attached.indexOf(":");
    const kind = report.attached.slice(0, colon);
    byKind.set(kind, [...(byKind.get(kind) ?? []), report.attached.slice(colon + 1)]);
  }
  return [...byKind].map(([kind, targets]) => `${kind}:${targets.join(",")}`).join(" ");
}
