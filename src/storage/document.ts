// The stored event document (user guide 5.2, notes §8.2): one shape for local files, Elasticsearch and the watch stream.
// Times use the host's local zone with an explicit offset, as the original writes them and the seed samples show.
import type { Container } from "../pod/types";
import { formatRfc3339Nano, formatTracerTime, wallClockNs } from "./time";

/** `event` for kernel-event tracers, `autotracing` for detectors, `manual` for `huatuo-bamai trace --save`. */
export type TracerType = "event" | "autotracing" | "manual";
export type TracerData = Record<string, unknown>;

/** Field order is the original's: tools that diff or grep records see the same layout. */
export interface Document {
  hostname: string;
  region: string;
  /** When the agent stored it: RFC 3339 with nanoseconds, e.g. `2025-06-11T16:05:16.251152703+08:00`. */
  uploaded_time: string;
  /** Same string as `tracer_time`, e.g. `2025-06-11 16:05:16.251 +0800`. */
  time: string;
  container_id?: string;
  container_hostname?: string;
  container_host_namespace?: string;
  container_type?: string;
  container_qos?: string;
  tracer_name: string;
  /** 20 random hex digits; also the Elasticsearch `_id`, so a retried bulk write never duplicates. */
  tracer_id: string;
  tracer_time: string;
  tracer_type: TracerType;
  tracer_data: TracerData;
}

/** Who stores: the same for every document of a process. */
export interface DocumentOrigin {
  hostname: string;
  region: string;
}

export interface DocumentInput {
  tracerName: string;
  /** Defaults to `event`. */
  tracerType?: TracerType;
  data: TracerData;
  /** The container the event belongs to, when the tracer could attribute it. */
  container?: Container;
  /** When the tracer observed it; defaults to now. */
  time?: Date;
}

export function buildDocument(origin: DocumentOrigin, input: DocumentInput, uploadedNs = wallClockNs()): Document {
  const tracerTime = formatTracerTime(input.time ?? new Date(Number(uploadedNs / 1_000_000n)));
  const c = input.container;
  return {
    hostname: origin.hostname,
    region: origin.region,
    uploaded_time: formatRfc3339Nano(uploadedNs),
    time: tracerTime,
    ...(c && {
      container_id: c.id,
      container_hostname: c.hostname,
      container_host_namespace: c.namespace,
      container_type: c.type,
      container_qos: c.qos,
    }),
    tracer_name: input.tracerName,
    tracer_id: newTracerId(),
    tracer_time: tracerTime,
    tracer_type: input.tracerType ?? "event",
    tracer_data: input.data,
  };
}

/** 80 random bits as 20 hex digits: unique without coordination between agents. */
export function newTracerId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(10));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

// JSON.rawJSON (TC39 "JSON.parse source text access", in Bun) is missing from TypeScript's ES2022 lib.
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/**
 * Compact JSON of a document or event. A bigint (a u64 from a BPF record: MSR status, cgroup pointers) is written as
 * its exact digits, a JSON number as Go writes a uint64, never rounded to a double.
 */
export function toJson(value: unknown, indent?: number): string {
  return JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? rawJSON(v.toString()) : v), indent);
}

type SourceReviver = (key: string, value: unknown, context?: { source?: string }) => unknown;

/** JSON.parse that reads an integer beyond 2^53 as a bigint (its exact digits), so toJson writes it back unchanged. */
export function parseJson(text: string): unknown {
  const reviver: SourceReviver = (_key, v, context) =>
    typeof v === "number" && !Number.isSafeInteger(v) && /^-?\d+$/.test(context?.source ?? "") ? BigInt(context!.source!) : v;
  return JSON.parse(text, reviver as Parameters<typeof JSON.parse>[1]);
}
