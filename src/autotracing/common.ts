// What the five detectors share: their counters (exported as metrics), per-key cooldowns,
// and saving a capture as an autotracing document.
import { kernelFeatures } from "../bpf/loader";
import { sleep } from "../framework/sleep";
import type { Emitter, MetricCollector, Tracer, TracerContext } from "../framework/types";
import type { Container } from "../pod/types";
import type { TracerData } from "../storage/document";

/** Counters of one detector: `huatuo_bamai_<detector>_{triggers,captures,capture_failures,capture_seconds}_total`. */
export class DetectorStats implements MetricCollector {
  triggers = 0;
  /** Triggers not acted on because the cooldown had not elapsed. */
  cooldownSkips = 0;
  captures = 0;
  failures = 0;
  captureSeconds = 0;

  /** Runs one capture, counting it and the time it took; rethrows its error after counting it. */
  async capture<T>(work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const result = await work();
      this.captures++;
      return result;
    } catch (err) {
      this.failures++;
      throw err;
    } finally {
      this.captureSeconds += (performance.now() - started) / 1000;
    }
  }

  collect(emit: Emitter): void {
    emit.counter("triggers_total", "times the detector's thresholds were crossed", this.triggers);
    emit.counter("cooldown_skips_total", "triggers ignored because the cooldown had not elapsed", this.cooldownSkips);
    emit.counter("captures_total", "captures stored", this.captures);
    emit.counter("capture_failures_total", "captures that failed", this.failures);
    emit.counter("capture_seconds_total", "time spent capturing", this.captureSeconds);
  }
}

/** Per key (a container id, or "" for the host): when it was last traced. A key never traced is ready. */
export class Cooldown {
  private readonly last = new Map<string, number>();

  ready(key: string, nowMs: number, periodS: number): boolean {
    const at = this.last.get(key);
    return at === undefined || nowMs - at >= periodS * 1000;
  }

  mark(key: string, nowMs: number): void {
    this.last.set(key, nowMs);
  }

  /** Forgets keys no longer present (containers that went away). */
  retain(keys: ReadonlySet<string>): void {
    for (const key of this.last.keys()) if (!keys.has(key)) this.last.delete(key);
  }
}

/** The detectors' loop. The pause is read anew after every tick so that a config reload changes the next one without a restart. */
export async function tickEvery(signal: AbortSignal, pauseMs: () => number, tick: () => Promise<unknown>): Promise<void> {
  while (!signal.aborted) {
    await tick();
    await sleep(pauseMs(), signal);
  }
}

export function saveCapture(ctx: TracerContext, tracerName: string, data: TracerData, container?: Container, time?: Date): string {
  return ctx.events.save({ tracerName, tracerType: "autotracing", data, container, time }).tracer_id;
}

/**
 * A detector whose capture needs BPF still detects (and counts triggers) on a kernel that cannot load it; the
 * reason shows as its degraded status instead of a failure at every trigger going unexplained.
 */
export async function withCaptureCheck<T extends Tracer>(tracer: T, what: string): Promise<T> {
  try {
    const features = await kernelFeatures();
    if (!features.coreBtf.available) tracer.degraded = `${what} unavailable: ${features.coreBtf.reason}`;
  } catch (err) {
    tracer.degraded = `${what} unavailable: ${(err as Error).message}`;
  }
  return tracer;
}

