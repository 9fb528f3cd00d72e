// Loading the eBPF metric tracers: a kernel that lacks what one needs makes it unsupported, and optional hooks
// left unattached are named, so that /tracers shows a tracer running without part of its data, and why.
import { describeMissing } from "../bpf/hooks";
import { isUnsupported, loadTracer, type LoadOptions, type TracerBpf } from "../bpf/loader";
import type { BpfObject } from "../bpf/object";
import { UnsupportedError } from "../framework/types";

export async function loadMetricBpf(spec: TracerBpf, options: LoadOptions = {}): Promise<BpfObject> {
  try {
    return await loadTracer(spec, options);
  } catch (err) {
    if (isUnsupported(err)) throw new UnsupportedError((err as Error).message);
    throw err;
  }
}

/** `without <hook> (<why>)` for each optional hook no candidate could serve, "" when all are attached. */
export function unattachedHooks(object: BpfObject): string {
  const missing = object.hooks.filter((report) => !report.attached);
  return missing.map((report) => `without ${report.hook} (${describeMissing(report)})`).join("; ");
}
