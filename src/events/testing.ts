// Test helpers for the event tracers: raw tracepoint records laid out from a format file as the kernel writes them
// (fixed fields, then the __data_loc payloads), the recorded tracefs formats, and a sink that keeps what is saved.
import { join } from "node:path";
import { buildDocument, type Document, type DocumentInput } from "../storage/document";
import type { EventSink } from "../storage/sink";
import type { TracepointFormat } from "./tp_format";

/** Recorded format files (fixtures/tracefs/README.md). */
export const TRACEFS_FIXTURES = join(import.meta.dir, "../../fixtures/tracefs");
export const TRACEFS_FIXTURES_5_15 = join(import.meta.dir, "../../fixtures/tracefs-5.15");

export type FieldInput = number | bigint | string | Uint8Array | number[];

function writeInt(view: DataView, at: number, size: number, value: number | bigint): void {
  const big = BigInt(value);
  if (size === 8) view.setBigUint64(at, BigInt.asUintN(64, big), true);
  else if (size === 4) view.setUint32(at, Number(BigInt.asUintN(32, big)), true);
  else if (size === 2) view.setUint16(at, Number(BigInt.asUintN(16, big)), true);
  else view.setUint8(at, Number(BigInt.asUintN(8, big)));
}

function bytesOf(value: FieldInput): Uint8Array {
  if (typeof value === "string") return new TextEncoder().encode(`${value}\0`);
  if (value instanceof Uint8Array) return value;
  return Uint8Array.from(value as number[]);
}

/** A record of `total` bytes (the BPF copy's size) with `values` by field name; others stay zero. */
export function buildRecord(format: TracepointFormat, values: Record<string, FieldInput>, total = 2048): Uint8Array {
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  const fields = [...format.fields.values()];
  let dynamicAt = Math.max(...fields.map((f) => f.offset + f.size));
  for (const [name, value] of Object.entries(values)) {
    const f = format.fields.get(name);
    if (!f) throw new Error(`${format.name} has no field ${name}`);
    if (f.dynamic) {
      const data = bytesOf(value);
      bytes.set(data, dynamicAt);
      view.setUint32(f.offset, ((data.length << 16) | dynamicAt) >>> 0, true);
      dynamicAt += data.length;
    } else if (f.count) {
      const width = f.size / f.count;
      (value as number[]).forEach((v, i) => writeInt(view, f.offset + i * width, width, v));
    } else if (typeof value === "string" || value instanceof Uint8Array) {
      bytes.set(bytesOf(value).subarray(0, f.size), f.offset);
    } else {
      writeInt(view, f.offset, f.size, value as number | bigint);
    }
  }
  return bytes;
}

/** An EventSink that keeps every input and document. */
export class CaptureSink implements EventSink {
  readonly inputs: DocumentInput[] = [];
  readonly documents: Document[] = [];

  save(input: DocumentInput): Document {
    const doc = buildDocument({ hostname: "node-1", region: "dev" }, input);
    this.inputs.push(input);
    this.documents.push(doc);
    return doc;
  }

  /** tracer_data of every saved document. */
  get data(): Array<Record<string, unknown>> {
    return this.documents.map((d) => d.tracer_data);
  }
}
