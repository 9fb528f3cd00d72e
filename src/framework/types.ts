// The contract between the framework and every tracer: metric collectors, kernel-event tracers and autotracers.
import type { Logger } from "../log";
import type { Container, ContainerSource } from "../pod/types";
import type { ConfigStore } from "../config/store";
import type { EventSink } from "../storage/sink";

export type TracerKind = "metric" | "event" | "autotracing";
export type Labels = Record<string, string>;

/** Cumulative buckets keyed by upper bound (in the metric's base unit, e.g. seconds); +Inf is implied by `count`. */
export interface HistogramValue {
  buckets: Array<[upperBound: number, cumulativeCount: number]>;
  sum: number;
  count: number;
}

/**
 * Where a collector puts its samples. `name` is the part after `huatuo_bamai_<collector>_`;
 * `host` and `region` labels are added by the framework.
 */
export interface Emitter {
  gauge(name: string, help: string, value: number, labels?: Labels): void;
  counter(name: string, help: string, value: number, labels?: Labels): void;
  histogram(name: string, help: string, value: HistogramValue, labels?: Labels): void;
  /** An emitter for one container: names gain the `container_` prefix and the five container labels. */
  forContainer(container: Container): Emitter;
}

export interface MetricCollector {
  collect(emit: Emitter, signal: AbortSignal): Promise<void> | void;
}

/** What a tracer gets from the daemon when it is created. */
export interface TracerContext {
  config: ConfigStore;
  log: Logger;
  containers: ContainerSource;
  region: string;
  hostname: string;
  /** Where event tracers and autotracers save documents: local files, Elasticsearch and the watch stream. */
  events: EventSink;
}

/** A created tracer. A metric collector has `collector`; event tracers and autotracers have `run`. */
export interface Tracer {
  /** Where it is attached, e.g. `tracepoint:sched/sched_switch`, `kprobe:oom_kill_process`, `procfs`. */
  hook: string;
  /** Running without part of its hooks (an optional one no candidate could serve): what is missing and why. */
  degraded?: string;
  collector?: MetricCollector;
  /**
   * Long-running work until `signal` aborts. Returning early or throwing restarts it after its
   * interval with backoff; the restart is counted.
   */
  run?(signal: AbortSignal): Promise<void>;
  close?(): Promise<void> | void;
}

export interface TracerDefinition {
  /** The HUATUO name (`cpu_util`, `runqlat`, `oom`, `cpusys`, ...): used by BlackList and metric names. */
  name: string;
  kind: TracerKind;
  description: string;
  /** Seconds before a `run` that ended is started again (the original's Interval). */
  restartInterval?: number;
  /** Throws UnsupportedError when this host cannot run it; any other error marks it failed. */
  create(ctx: TracerContext): Promise<Tracer> | Tracer;
}

/** The host lacks what the tracer needs (a file, a kernel feature): reported, never fatal. */
export class UnsupportedError extends Error {
  override name = "UnsupportedError";
}
