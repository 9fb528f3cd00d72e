// The catalogue of tracer definitions. Each tracer file calls registerTracer() once at import time.
import type { TracerDefinition } from "./types";

const definitions = new Map<string, TracerDefinition>();

export function registerTracer(def: TracerDefinition): void {
  if (definitions.has(def.name)) throw new Error(`tracer ${def.name} registered twice`);
  definitions.set(def.name, def);
}

export function registeredTracers(): TracerDefinition[] {
  return [...definitions.values()].sort((a, b) => a.name.localeCompare(b.name));
}

export function isRegistered(name: string): boolean {
  return definitions.has(name);
}
