// Creates every registered tracer once, keeps its status, runs metric collection per scrape and event loops with restart.
import type { Logger } from "../log";
import { FamilySet, type Family } from "./families";
import { registeredTracers } from "./registry";
import type { Tracer, TracerContext, TracerDefinition, TracerKind } from "./types";
import { UnsupportedError } from "./types";
import { sleep } from "./sleep";

export type TracerState = "running" | "disabled" | "unsupported" | "failed";

/** One tracer as `GET /tracers` returns it. */
export interface TracerStatus {
  name: string;
  kind: TracerKind;
  status: TracerState;
  /** The hook it runs on, or "" when not running. */
  hook: string;
  /** Why it is not running (blacklist, missing kernel feature, error), or what a running one lacks. */
  reason: string;
  restarts: number;
  events: number;
}

interface Entry {
  def: TracerDefinition;
  status: TracerStatus;
  tracer?: Tracer;
  /** Serialises overlapping scrapes of one collector. */
  busy?: Promise<unknown>;
  loop?: Promise<void>;
}

export interface CollectOptions {
  timeoutMs: number;
}

export interface ScrapeResult {
  /** Every successful collector's families; the exposition writer renders them from here. */
  set: FamilySet;
  /** The same families as sample objects, built on demand (tests, reports). */
  readonly families: Family[];
  durations: Map<string, number>;
  success: Map<string, boolean>;
}

const MAX_RESTART_BACKOFF_S = 600;

export class TracerManager {
  private readonly entries = new Map<string, Entry>();
  private readonly stop = new AbortController();

  constructor(
    private readonly ctx: TracerContext,
    private readonly log: Logger,
  ) {}

  /** Create every tracer not in `blacklist`; one that cannot be created never stops the others. */
  async createAll(blacklist: ReadonlySet<string>, defs: TracerDefinition[] = registeredTracers()): Promise<void> {
    for (const def of defs) {
      const entry: Entry = { def, status: newStatus(def) };
      this.entries.set(def.name, entry);
      if (blacklist.has(def.name)) {
        setState(entry, "disabled", "", "blacklist");
        continue;
      }
      await this.create(entry);
    }
  }

  private async create(entry: Entry): Promise<void> {
    const log = this.log.child("tracer", { tracer: entry.def.name });
    try {
      entry.tracer = await entry.def.create({ ...this.ctx, log });
      setState(entry, "running", entry.tracer.hook, entry.tracer.degraded ?? "");
    } catch (err) {
      const unsupported = err instanceof UnsupportedError;
      setState(entry, unsupported ? "unsupported" : "failed", "", errorText(err));
    }
  }

  /** Start the run loops of event tracers and autotracers. */
  startLoops(): void {
    for (const entry of this.entries.values()) {
      if (entry.status.status === "running" && entry.tracer?.run) entry.loop = this.runLoop(entry);
    }
  }

  private async runLoop(entry: Entry): Promise<void> {
    const signal = this.stop.signal;
    const log = this.log.child("tracer", { tracer: entry.def.name });
    let failures = 0;
    while (!signal.aborted) {
      try {
        await entry.tracer!.run!(signal);
        failures = 0;
      } catch (err) {
        failures++;
        log.warn("tracer stopped with an error", { err: errorText(err) });
      }
      if (signal.aborted) break;
      entry.status.restarts++;
      const base = entry.def.restartInterval ?? 10;
      await sleep(Math.min(base * 2 ** Math.min(failures, 6), MAX_RESTART_BACKOFF_S) * 1000, signal);
    }
  }

  /** Count one event produced by a tracer (for /tracers and metrics). */
  countEvent(name: string): void {
    const entry = this.entries.get(name);
    if (entry) entry.status.events++;
  }

  statuses(): TracerStatus[] {
    return [...this.entries.values()].map((e) => ({ ...e.status }));
  }

  /** Run every running collector concurrently, each bounded by a timeout; failures only mark that collector. */
  async collect(baseLabels: Record<string, string>, opts: CollectOptions): Promise<ScrapeResult> {
    const set = new FamilySet(baseLabels);
    const durations = new Map<string, number>();
    const success = new Map<string, boolean>();
    const collectors = [...this.entries.values()].filter((e) => e.status.status === "running" && e.tracer?.collector);
    await Promise.all(
      collectors.map(async (entry) => {
        const started = performance.now();
        const staging = new FamilySet(baseLabels);
        const ok = await this.collectOne(entry, staging, opts.timeoutMs);
        // A timed-out or failed collector contributes nothing partial: its samples may be inconsistent.
        if (ok) set.merge(staging);
        durations.set(entry.def.name, (performance.now() - started) / 1000);
        success.set(entry.def.name, ok);
      }),
    );
    return { set, durations, success, get families() { return set.all(); } };
  }

  private async collectOne(entry: Entry, staging: FamilySet, timeoutMs: number): Promise<boolean> {
    const name = entry.def.name;
    const deadline = new AbortController();
    let timer: Timer | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        deadline.abort();
        reject(new Error(`timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    });
    const previous = entry.busy ?? Promise.resolve();
    const run = previous.then(() => entry.tracer!.collector!.collect(staging.emitterFor(name), deadline.signal));
    entry.busy = run.catch(() => undefined);
    try {
      await Promise.race([run, timedOut]);
      return true;
    } catch (err) {
      this.log.debug("collect failed", { collector: name, err: errorText(err) });
      return false;
    } finally {
      clearTimeout(timer);
      timedOut.catch(() => undefined);
    }
  }

  /** Stop loops and close tracers in reverse creation order, bounded by `deadlineMs`. */
  async close(deadlineMs: number): Promise<void> {
    this.stop.abort();
    const entries = [...this.entries.values()].reverse();
    const work = (async () => {
      await Promise.allSettled(entries.map((e) => e.loop));
      for (const e of entries) {
        try {
          await e.tracer?.close?.();
        } catch (err) {
          this.log.warn("tracer close failed", { tracer: e.def.name, err: errorText(err) });
        }
      }
    })();
    await Promise.race([work, Bun.sleep(deadlineMs)]);
  }
}

function newStatus(def: TracerDefinition): TracerStatus {
  return { name: def.name, kind: def.kind, status: "failed", hook: "", reason: "", restarts: 0, events: 0 };
}

function setState(entry: Entry, status: TracerState, hook: string, reason: string): void {
  Object.assign(entry.status, { status, hook, reason });
}

export function errorText(err: unknown): string {
  if (err instanceof Error) return err.message.split("\n")[0] ?? err.name;
  return String(err);
}

