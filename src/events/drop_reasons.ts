// Names of the kernel's `enum skb_drop_reason` (5.17+) read from its BTF: the numbering changes between versions,
// so reason 3 is only "NO_SOCKET" if this kernel says so.
import { readFile } from "node:fs/promises";

const BTF_MAGIC = 0xeb9f;
const KIND_ENUM = 6;
const KIND_ENUM64 = 19;

/** Bytes after the 12-byte common header, by BTF kind (uapi linux/btf.h); vlen = number of members/values/params. */
function extraBytes(kind: number, vlen: number): number {
  switch (kind) {
    case 1: // INT
    case 14: // VAR
    case 17: // DECL_TAG
      return 4;
    case 3: // ARRAY
      return 12;
    case 4: // STRUCT
    case 5: // UNION
    case 15: // DATASEC
    case KIND_ENUM64:
      return vlen * 12;
    case KIND_ENUM:
    case 13: // FUNC_PROTO
      return vlen * 8;
    default:
      return 0;
  }
}

/** The values of the enum named `name` in a raw BTF blob (value → enumerator name), undefined when absent. */
export function btfEnum(btf: Uint8Array, name: string): Map<number, string> | undefined {
  const view = new DataView(btf.buffer, btf.byteOffset, btf.byteLength);
  if (view.getUint16(0, true) !== BTF_MAGIC) throw new Error("not a BTF blob");
  const hdrLen = view.getUint32(4, true);
  const typeStart = hdrLen + view.getUint32(8, true);
  const typeEnd = typeStart + view.getUint32(12, true);
  const strStart = hdrLen + view.getUint32(16, true);
  const decoder = new TextDecoder();
  const str = (off: number) => decoder.decode(btf.subarray(strStart + off, btf.indexOf(0, strStart + off)));
  for (let at = typeStart; at < typeEnd; ) {
    const info = view.getUint32(at + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    if (kind === KIND_ENUM && str(view.getUint32(at, true)) === name) {
      const values = new Map<number, string>();
      for (let i = 0, v = at + 12; i < vlen; i++, v += 8) values.set(view.getInt32(v + 4, true), str(view.getUint32(v, true)));
      return values;
    }
    at += 12 + extraBytes(kind, vlen);
  }
  return undefined;
}

/** Reported when the kernel's kfree_skb carries no reason (before 5.17): bpf/include/dropwatch.h DROPWATCH_NO_REASON. */
export const NO_REASON = 0xffffffff;

/** Reason numbers to names without the enum prefix: `SKB_DROP_REASON_NO_SOCKET` → `NO_SOCKET`. */
export class DropReasons {
  constructor(private readonly names: ReadonlyMap<number, string>) {}

  /** From the kernel BTF (or an external BTF file); an empty table when the kernel has no such enum. */
  static async load(btfPath: string): Promise<DropReasons> {
    const values = btfEnum(new Uint8Array(await readFile(btfPath)), "skb_drop_reason");
    return new DropReasons(values ?? new Map());
  }

  name(reason: number): string {
    if (reason === NO_REASON) return "NOT_SUPPORTED";
    const full = this.names.get(reason);
    if (!full) return String(reason);
    return full.startsWith("SKB_DROP_REASON_") ? full.slice(16) : full.replace(/^SKB_/, "");
  }

  /** The number of a reason by its short name, e.g. `TCP_LISTEN_OVERFLOW`, when this kernel has it. */
  value(short: string): number | undefined {
    for (const [value, full] of this.names) if (full === `SKB_DROP_REASON_${short}`) return value;
    return undefined;
  }
}
