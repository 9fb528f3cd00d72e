// Holds the live Config: the daemon swaps it on SIGHUP reload and tracers read or subscribe to it.
import type { Config } from "./schema";

export type ConfigListener = (next: Config, prev: Config) => void;

export class ConfigStore {
  private current: Config;
  private readonly listeners = new Set<ConfigListener>();

  constructor(initial: Config) {
    this.current = deepFreeze(initial);
  }

  /** The current config. It is frozen: build a new one and `set` it instead of editing it. */
  get(): Config {
    return this.current;
  }

  /**
   * Publishes `next` and tells every listener. A throwing listener does not stop the others from
   * hearing about the change; the first error is rethrown once all have run.
   */
  set(next: Config): void {
    const prev = this.current;
    if (next === prev) return;
    this.current = deepFreeze(next);
    let failure: { error: unknown } | undefined;
    for (const listener of [...this.listeners]) {
      try {
        listener(this.current, prev);
      } catch (error) {
        failure ??= { error };
      }
    }
    if (failure) throw failure.error;
  }

  /** Calls `listener` after each change; returns the function that unsubscribes it. */
  onChange(listener: ConfigListener): () => void {
    // A wrapper per subscription, so subscribing one function twice needs two unsubscribes.
    const entry: ConfigListener = (next, prev) => listener(next, prev);
    this.listeners.add(entry);
    return () => {
      this.listeners.delete(entry);
    };
  }
}

/** Frozen so that no tracer can change the config another one is reading. */
function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
