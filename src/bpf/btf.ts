// A small reader of the BTF type section of BPF objects: what the decoder generator and layout tests need
// (kernel uapi linux/btf.h describes the format).

export type BtfKindName =
  | "void" | "int" | "ptr" | "array" | "struct" | "union" | "enum" | "fwd" | "typedef" | "volatile" | "const"
  | "restrict" | "func" | "func_proto" | "var" | "datasec" | "float" | "decl_tag" | "type_tag" | "enum64";

const KINDS: BtfKindName[] = [
  "void", "int", "ptr", "array", "struct", "union", "enum", "fwd", "typedef", "volatile", "const", "restrict",
  "func", "func_proto", "var", "datasec", "float", "decl_tag", "type_tag", "enum64",
];

export interface BtfMember {
  name: string;
  type: number;
  bitOffset: number;
  /** Non-zero for bitfields. */
  bitSize: number;
}

export interface BtfType {
  id: number;
  kind: BtfKindName;
  name: string;
  /** Byte size (int, struct, union, enum, datasec, float); referenced type id for ptr/typedef/modifiers/var/func. */
  sizeOrType: number;
  /** int: bits and whether signed/bool; enum: whether signed. */
  intBits?: number;
  signed?: boolean;
  bool?: boolean;
  members?: BtfMember[];
  array?: { type: number; count: number };
}

const BTF_MAGIC = 0xeb9f;
const INT_SIGNED = 1 << 0;
const INT_BOOL = 1 << 2;

/** The bytes of a named section of a little-endian ELF64 file. */
export function elfSection(elf: Uint8Array, name: string): Uint8Array | undefined {
  const view = new DataView(elf.buffer, elf.byteOffset, elf.byteLength);
  if (view.getUint32(0) !== 0x7f454c46 || elf[4] !== 2 || elf[5] !== 1) throw new Error("not a little-endian ELF64 file");
  const shoff = Number(view.getBigUint64(0x28, true));
  const shentsize = view.getUint16(0x3a, true);
  const shnum = view.getUint16(0x3c, true);
  const header = (i: number) => shoff + i * shentsize;
  const strtab = Number(view.getBigUint64(header(view.getUint16(0x3e, true)) + 0x18, true));
  const decoder = new TextDecoder();
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const nameOff = strtab + view.getUint32(h, true);
    const end = elf.indexOf(0, nameOff);
    if (decoder.decode(elf.subarray(nameOff, end)) !== name) continue;
    const offset = Number(view.getBigUint64(h + 0x18, true));
    return elf.subarray(offset, offset + Number(view.getBigUint64(h + 0x20, true)));
  }
  return undefined;
}

/** All types of a .BTF section; index = type id (0 is void). */
export function parseBtf(section: Uint8Array): BtfType[] {
  const view = new DataView(section.buffer, section.byteOffset, section.byteLength);
  if (view.getUint16(0, true) !== BTF_MAGIC) throw new Error("bad BTF magic");
  const hdrLen = view.getUint32(4, true);
  const typeStart = hdrLen + view.getUint32(8, true);
  const typeEnd = typeStart + view.getUint32(12, true);
  const strStart = hdrLen + view.getUint32(16, true);
  const decoder = new TextDecoder();
  const str = (off: number) => decoder.decode(section.subarray(strStart + off, section.indexOf(0, strStart + off)));
  const types: BtfType[] = [{ id: 0, kind: "void", name: "", sizeOrType: 0 }];
  let at = typeStart;
  while (at < typeEnd) {
    const info = view.getUint32(at + 4, true);
    const vlen = info & 0xffff;
    const kind = KINDS[(info >>> 24) & 0x1f] ?? "void";
    const kindFlag = info >>> 31 === 1;
    const type: BtfType = { id: types.length, kind, name: str(view.getUint32(at, true)), sizeOrType: view.getUint32(at + 8, true) };
    at += 12;
    at = readExtra(view, at, type, vlen, kindFlag, str);
    types.push(type);
  }
  return types;
}

function readExtra(
  view: DataView,
  at: number,
  type: BtfType,
  vlen: number,
  kindFlag: boolean,
  str: (off: number) => string,
): number {
  switch (type.kind) {
    case "int": {
      const data = view.getUint32(at, true);
      const encoding = data >>> 24;
      Object.assign(type, { intBits: data & 0xff, signed: (encoding & INT_SIGNED) !== 0, bool: (encoding & INT_BOOL) !== 0 });
      return at + 4;
    }
    case "array":
      type.array = { type: view.getUint32(at, true), count: view.getUint32(at + 8, true) };
      return at + 12;
    case "struct":
    case "union":
      type.members = [];
      for (let i = 0; i < vlen; i++, at += 12) {
        const offset = view.getUint32(at + 8, true);
        type.members.push({
          name: str(view.getUint32(at, true)),
          type: view.getUint32(at + 4, true),
          bitOffset: kindFlag ? offset & 0xffffff : offset,
          bitSize: kindFlag ? offset >>> 24 : 0,
        });
      }
      return at;
    case "enum":
      type.signed = kindFlag;
      return at + vlen * 8;
    case "enum64":
      type.signed = kindFlag;
      return at + vlen * 12;
    case "func_proto":
      return at + vlen * 8;
    case "var":
    case "decl_tag":
      return at + 4;
    case "datasec":
      return at + vlen * 12;
    default:
      return at;
  }
}
