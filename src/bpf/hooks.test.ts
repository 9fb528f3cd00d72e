// Hook selection against substituted kernels: order of preference, probes, forced-off tracepoints, retries.
import { describe, expect, test } from "bun:test";
import type { HookEnvironment } from "./features";
import { describeAttached, describeMissing, selectCandidates, type HookSpec } from "./hooks";

const switchHook: HookSpec = {
  name: "sched_switch",
  candidates: [
    { kind: "tp_btf", program: "btf_switch", target: "sched/sched_switch" },
    { kind: "raw_tp", program: "raw_switch", target: "sched/sched_switch" },
    { kind: "tracepoint", program: "tp_switch", target: "sched/sched_switch" },
    { kind: "kprobe", program: "kp_switch", target: "finish_task_switch" },
  ],
};

const yes = { available: true };

function env(overrides: Partial<HookEnvironment> = {}): HookEnvironment {
  return {
    kernelBtf: yes,
    tracefs: yes,
    kprobes: yes,
    hasTracepoint: () => true,
    resolveFunction: (name) => (name === "finish_task_switch" ? "finish_task_switch.isra.0" : undefined),
    ...overrides,
  };
}

const none = new Map<string, string>();

describe("selectCandidates", () => {
  test("prefers the BTF tracepoint when everything is available", () => {
    const { chosen, missing } = selectCandidates([switchHook], env(), {}, none);
    expect(missing).toEqual([]);
    expect(chosen.map((c) => c.candidate.kind)).toEqual(["tp_btf"]);
  });

  test("without kernel BTF falls to the raw tracepoint and says why", () => {
    const noBtf = env({ kernelBtf: { available: false, reason: "no kernel BTF" } });
    const { chosen, reports } = selectCandidates([switchHook], noBtf, {}, none);
    expect(chosen[0]!.candidate.kind).toBe("raw_tp");
    expect(reports[0]!.attempts).toEqual([{ candidate: "tp_btf:sched/sched_switch", status: "skipped", reason: "no kernel BTF" }]);
  });

  test("a candidate that failed before is passed over", () => {
    const failed = new Map([["tp_btf:sched/sched_switch", "load failed"], ["raw_tp:sched/sched_switch", "attach failed"]]);
    const { chosen, reports } = selectCandidates([switchHook], env(), {}, failed);
    expect(chosen[0]!.candidate.kind).toBe("tracepoint");
    expect(reports[0]!.attempts.map((a) => a.status)).toEqual(["failed", "failed"]);
  });

  test("forced-off tracepoints select the kprobe, on its compiler-cloned symbol", () => {
    const { chosen } = selectCandidates([switchHook], env(), { noTracepoints: true }, none);
    expect(chosen[0]!.candidate.kind).toBe("kprobe");
    expect(chosen[0]!.target).toBe("finish_task_switch.isra.0");
  });

  test("forced-off tracepoints without kprobes leave the hook missing with the kprobe reason first", () => {
    const reason = "kprobes unavailable: kernel built without CONFIG_KPROBES";
    const { chosen, missing } = selectCandidates([switchHook], env({ kprobes: { available: false, reason } }), { noTracepoints: true }, none);
    expect(chosen).toEqual([]);
    expect(describeMissing(missing[0]!)).toStartWith(`kprobe:finish_task_switch: ${reason} (also tried tp_btf:`);
  });

  test("a tracepoint missing from tracefs is skipped, a missing kernel function too", () => {
    const bare = env({ hasTracepoint: () => false, resolveFunction: () => undefined });
    const { missing } = selectCandidates([switchHook], bare, {}, none);
    const reasons = missing[0]!.attempts.map((a) => a.reason);
    expect(reasons).toEqual([
      "tracepoint sched/sched_switch not found",
      "tracepoint sched/sched_switch not found",
      "tracepoint sched/sched_switch not found",
      "kernel function finish_task_switch not found",
    ]);
  });

  test("without tracefs, raw and BTF tracepoints are still tried (they attach by name)", () => {
    const noTracefs = env({ tracefs: { available: false, reason: "tracefs unavailable" }, hasTracepoint: () => false });
    const { chosen } = selectCandidates([switchHook], noTracefs, {}, none);
    expect(chosen[0]!.candidate.kind).toBe("tp_btf");
  });

  test("an optional hook without candidates does not block the others", () => {
    const optional: HookSpec = { name: "extra", optional: true, candidates: [{ kind: "tracepoint", program: "x", target: "a/b" }] };
    const { chosen, missing, reports } = selectCandidates([switchHook, optional], env({ hasTracepoint: (g) => g === "sched" }), {}, none);
    expect(missing).toEqual([]);
    expect(chosen.length).toBe(1);
    expect(reports.map((r) => r.hook)).toEqual(["sched_switch", "extra"]);
  });
});

test("describeAttached groups hooks by kind", () => {
  const reports = [
    { hook: "a", attached: "tp_btf:sched/sched_wakeup", attempts: [] },
    { hook: "b", attached: "tp_btf:sched/sched_switch", attempts: [] },
    { hook: "c", attached: "kprobe:finish_task_switch", attempts: [] },
  ];
  expect(describeAttached(reports)).toBe("tp_btf:sched/sched_wakeup,sched/sched_switch kprobe:finish_task_switch");
});
