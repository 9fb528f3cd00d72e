// Tracepoint records decoded with the kernel's own description of them: the `format` file under
// tracefs/events/<group>/<name>/, which gives every field's offset, size and signedness on the running kernel.
import { readFileSync } from "node:fs";
import { join } from "node:path";

export interface FormatField {
  name: string;
  /** The C type as printed, e.g. `u64`, `char`, `__data_loc char[]`. */
  type: string;
  offset: number;
  size: number;
  signed: boolean;
  /** Elements of a fixed array (`u32 tlp_header[4]`), 0 for a scalar. */
  count: number;
  /** `__data_loc` (offset from the record start) or `__rel_loc` (from the field's end) dynamic data. */
  dynamic?: "data_loc" | "rel_loc";
}

export interface TracepointFormat {
  name: string;
  fields: Map<string, FormatField>;
}

const FIELD_LINE = /^\s*field:(.+?);\s*offset:(\d+);\s*size:(\d+);\s*signed:(\d+);/;

/** Parses a format file; common_* fields are kept like any other. */
export function parseFormat(text: string): TracepointFormat {
  const name = /^name:\s*(\S+)/m.exec(text)?.[1] ?? "";
  const fields = new Map<string, FormatField>();
  for (const line of text.split("\n")) {
    const m = FIELD_LINE.exec(line);
    if (!m) continue;
    const decl = m[1]!.trim();
    const array = /^(.*?)\s*(\w+)\s*\[(\d*)\]$/.exec(decl);
    const fieldName = array ? array[2]! : /(\w+)$/.exec(decl)![1]!;
    const type = array ? `${array[1]}[]` : decl.slice(0, decl.length - fieldName.length).trim();
    const dynamic = type.startsWith("__data_loc") ? "data_loc" : type.startsWith("__rel_loc") ? "rel_loc" : undefined;
    const size = Number(m[3]);
    const elementCount = array && array[3] !== "" ? Number(array[3]) : 0;
    fields.set(fieldName, { name: fieldName, type, offset: Number(m[2]), size, signed: m[4] === "1", count: dynamic ? 0 : elementCount, dynamic });
  }
  return { name, fields };
}

/** The format of `group/name` under a tracefs mount. */
export function readFormat(tracefs: string, tracepoint: string): TracepointFormat {
  return parseFormat(readFileSync(join(tracefs, "events", tracepoint, "format"), "utf8"));
}

/** One raw record read through its format. Missing fields read as undefined: older kernels lack some. */
export class RawRecord {
  private readonly view: DataView;

  constructor(
    readonly format: TracepointFormat,
    readonly bytes: Uint8Array,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  has(name: string): boolean {
    return this.format.fields.has(name);
  }

  /** A scalar of up to 8 bytes, exact (MSR values, addresses). */
  big(name: string): bigint | undefined {
    const f = this.scalar(name);
    if (!f) return undefined;
    if (f.size === 8) return f.signed ? this.view.getBigInt64(f.offset, true) : this.view.getBigUint64(f.offset, true);
    return BigInt(this.int(name)!);
  }

  /** A scalar as a number (8-byte values beyond 2^53 lose precision: use big for those). */
  int(name: string): number | undefined {
    const f = this.scalar(name);
    if (!f) return undefined;
    const v = this.view;
    switch (f.size) {
      case 1:
        return f.signed ? v.getInt8(f.offset) : v.getUint8(f.offset);
      case 2:
        return f.signed ? v.getInt16(f.offset, true) : v.getUint16(f.offset, true);
      case 4:
        return f.signed ? v.getInt32(f.offset, true) : v.getUint32(f.offset, true);
      default:
        return Number(this.big(name));
    }
  }

  /** The bytes of a fixed array or of dynamic data, clamped to what the copy holds. */
  raw(name: string): Uint8Array | undefined {
    const f = this.format.fields.get(name);
    if (!f) return undefined;
    let start = f.offset;
    let length = f.size;
    if (f.dynamic) {
      const loc = this.view.getUint32(f.offset, true);
      start = (loc & 0xffff) + (f.dynamic === "rel_loc" ? f.offset + f.size : 0);
      length = loc >>> 16;
    }
    const end = Math.min(start + length, this.bytes.length);
    return this.bytes.subarray(Math.min(start, end), end);
  }

  /** A string field (dynamic or fixed char array) up to its NUL. */
  str(name: string): string | undefined {
    const bytes = this.raw(name);
    if (!bytes) return undefined;
    const nul = bytes.indexOf(0);
    return new TextDecoder().decode(nul < 0 ? bytes : bytes.subarray(0, nul));
  }

  /** The elements of a fixed array of integers. */
  ints(name: string): number[] | undefined {
    const f = this.format.fields.get(name);
    if (!f || !f.count) return undefined;
    const width = f.size / f.count;
    return Array.from({ length: f.count }, (_, i) => readUnsigned(this.view, f.offset + i * width, width));
  }

  private scalar(name: string): FormatField | undefined {
    const f = this.format.fields.get(name);
    if (!f || f.dynamic || f.count || f.offset + f.size > this.bytes.length) return undefined;
    return [1, 2, 4, 8].includes(f.size) ? f : undefined;
  }
}

function readUnsigned(view: DataView, offset: number, width: number): number {
  if (width === 1) return view.getUint8(offset);
  if (width === 2) return view.getUint16(offset, true);
  if (width === 4) return view.getUint32(offset, true);
  return Number(view.getBigUint64(offset, true));
}
