// The loader against the real kernel: every runqlat variant attaches here, fallbacks after real attach failures,
// the forced no-tracepoint path, and one-line errors for bad objects, missing maps and missing hooks.
import { beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildBpf, isRoot, ROOT, rootOnly, run } from "./support/bpf_helpers";
import type { BpfError } from "../src/bpf/errors";
import type { HookKind } from "../src/bpf/hooks";
import type { TracerBpf } from "../src/bpf/loader";

beforeAll(buildBpf);

const { loadTracer, kernelFeatures } = await import("../src/bpf/loader");
const { probeFeatures } = await import("../src/bpf/features");
const { BpfObject, constant } = await import("../src/bpf/object");
const { loadNative } = await import("../src/bpf/native");
const { embeddedAssets } = await import("../src/bpf/embedded");
const { runqlatBpf, createRunqlat } = await import("../src/metrics/runqlat");
const { UnsupportedError } = await import("../src/framework/types");

function only(kind: HookKind): TracerBpf {
  return { ...runqlatBpf, hooks: runqlatBpf.hooks.map((h) => ({ ...h, candidates: h.candidates.filter((c) => c.kind === kind) })) };
}

async function failure(work: () => unknown): Promise<BpfError> {
  try {
    await work();
  } catch (err) {
    return err as BpfError;
  }
  throw new Error("expected a failure");
}

function expectOneLine(err: Error, ...parts: string[]): void {
  expect(err.name).toBe("BpfError");
  expect(err.message).not.toContain("\n");
  for (const part of parts) expect(err.message).toContain(part);
}

describe.skipIf(!isRoot)(rootOnly("runqlat variants"), () => {
  test("the default choice is the BTF tracepoints", async () => {
    const object = await loadTracer(runqlatBpf);
    expect(object.hook).toBe("tp_btf:sched/sched_wakeup,sched/sched_wakeup_new,sched/sched_switch,sched/sched_process_exit");
    expect(object.hooks.every((h) => h.attempts.at(-1)?.status === "attached")).toBe(true);
    object.close();
  });

  for (const kind of ["raw_tp", "tracepoint"] as const) {
    test(`the ${kind} variant loads and attaches here`, async () => {
      const object = await loadTracer(only(kind));
      expect(object.hook).toStartWith(`${kind}:sched/sched_wakeup`);
      object.close();
    });
  }

  test("a candidate that fails to attach is recorded and the next one is used", async () => {
    // a classic-tracepoint program cannot attach as a raw tracepoint: a genuine attach failure
    const broken: TracerBpf = {
      ...runqlatBpf,
      hooks: runqlatBpf.hooks.map((h) => {
        const tp = h.candidates.find((c) => c.kind === "tracepoint")!;
        return { ...h, candidates: [{ ...tp, kind: "raw_tp" }, tp] };
      }),
    };
    const object = await loadTracer(broken);
    expect(object.hook).toStartWith("tracepoint:");
    const [failed, attached] = object.hooks[0]!.attempts;
    expect(failed!.status).toBe("failed");
    expect(failed!.reason).toContain("attach raw tracepoint sched_wakeup: invalid argument");
    expect(attached!.status).toBe("attached");
    object.close();
  });

  test("forced off tracepoints select the kprobe, which reports kprobes unavailable", async () => {
    const features = await kernelFeatures();
    expect(features.kprobes.available).toBe(false);
    const err = await failure(() => createRunqlat({ noTracepoints: true }));
    expect(err).toBeInstanceOf(UnsupportedError);
    expect(err.message).toStartWith("attach runqlat hook sched_wakeup: kprobe:try_to_wake_up: kprobes unavailable");
    expect(err.message).toContain("kernel built without CONFIG_KPROBES");
    expect(err.message).not.toContain("\n");
  });
});

describe.skipIf(!isRoot)(rootOnly("BTF and tracefs"), () => {
  test("without kernel BTF an external BTF file serves CO-RE; BTF tracepoints give way to raw ones", async () => {
    const features = probeFeatures(await loadNative(), { kernelBtf: "/nonexistent/vmlinux", btfPath: "/sys/kernel/btf/vmlinux" });
    expect(features.btfPath).toBe("/sys/kernel/btf/vmlinux");
    const object = await loadTracer(runqlatBpf, { features });
    expect(object.hook).toStartWith("raw_tp:sched/sched_wakeup");
    expect(object.hooks[0]!.attempts[0]!.reason).toContain("no kernel BTF (/nonexistent/vmlinux");
    object.close();
  });

  test("without any BTF the tracer is unsupported, with the reason", async () => {
    const features = probeFeatures(await loadNative(), { kernelBtf: "/nonexistent/vmlinux" });
    const err = await failure(() => createRunqlat({ features }));
    expect(err).toBeInstanceOf(UnsupportedError);
    expect(err.message).toBe(
      "load runqlat: no kernel BTF (/nonexistent/vmlinux, CONFIG_DEBUG_INFO_BTF) and no external BTF file configured",
    );
  });

  test("tracefs is mounted when absent (in a private mount namespace)", () => {
    const work = mkdtempSync(join(tmpdir(), "hb-tracefs-"));
    const script = join(work, "child.ts");
    writeFileSync(
      script,
      `import { existsSync } from "node:fs";
if (existsSync("/sys/kernel/tracing/events")) throw new Error("tracefs still mounted");
const { loadTracer } = await import(${JSON.stringify(join(ROOT, "src/bpf/loader.ts"))});
const { runqlatBpf } = await import(${JSON.stringify(join(ROOT, "src/metrics/runqlat.ts"))});
const tracepoints = runqlatBpf.hooks.map((h) => ({ ...h, candidates: h.candidates.filter((c) => c.kind === "tracepoint") }));
const object = await loadTracer({ ...runqlatBpf, hooks: tracepoints });
console.log(object.hook);
object.close();
`,
    );
    const bun = join(ROOT, "node_modules/.bin/bun");
    const unmount = "umount /sys/kernel/tracing 2>/dev/null; umount /sys/kernel/debug/tracing 2>/dev/null;";
    const result = run(["unshare", "-m", "sh", "-c", `${unmount} exec ${bun} ${script}`]);
    expect(result.stderr).toBe("");
    expect(result.stdout).toStartWith("tracepoint:sched/sched_wakeup");
  }, 30_000);
});

describe.skipIf(!isRoot)(rootOnly("one-line errors"), () => {
  test("bad object bytes", async () => {
    const err = await failure(() => loadTracer(runqlatBpf, { objectBytes: new TextEncoder().encode("not an object") }));
    expectOneLine(err, "open object runqlat", "BPF object format invalid", "not a proper ELF object");
    expect(err.hint).toBe("the object bytes are not a BPF ELF object");
  });

  test("missing map name", async () => {
    const object = await loadTracer(runqlatBpf);
    try {
      expectOneLine(await failure(() => object.map("no_such_map")), "map no_such_map: not in object");
    } finally {
      object.close();
    }
  });

  test("attach to a nonexistent tracepoint", async () => {
    const object = await loadTracer(only("tracepoint"));
    try {
      const err = await failure(() => object.attach("runqlat_tp_switch", "tracepoint", "hb_nope/nope"));
      expectOneLine(err, "attach tracepoint hb_nope/nope: no such file or directory", "the hook does not exist");
      expect(err.code).toBe("ENOENT");
    } finally {
      object.close();
    }
  });

  test("a hook whose tracepoint is missing everywhere names it", async () => {
    const spec: TracerBpf = {
      object: "runqlat",
      hooks: [{ name: "nope", candidates: [{ kind: "tracepoint", program: "runqlat_tp_switch", target: "hb_nope/nope" }] }],
    };
    const err = await failure(() => loadTracer(spec));
    expectOneLine(err, "attach runqlat hook nope: tracepoint:hb_nope/nope: tracepoint hb_nope/nope not found");
    expect(err.unsupported).toBe(true);
  });

  test("constants: unknown name and wrong size", async () => {
    const native = await loadNative();
    const bytes = await Bun.file((await embeddedAssets()).bpfObjects.runqlat!).bytes();
    const object = BpfObject.open(native, "runqlat", bytes);
    try {
      expectOneLine(await failure(() => object.setConstant("nope", constant.u32(1))), "set constant nope: no such variable");
      expectOneLine(await failure(() => object.setConstant("per_cgroup", constant.u32(1))), "size 4, variable has 1");
    } finally {
      object.close();
    }
  });
});
