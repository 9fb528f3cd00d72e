// A bounded-memory ELF reader for symbolization: headers, load segments, build id and function symbols, all read
// with positioned reads. A huge binary is never loaded whole (the original's profiler reached 8.5 GiB RSS on one).
import { closeSync, openSync, readSync } from "node:fs";

const ELF_MAGIC = 0x464c457f;
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const SHT_SYMTAB = 2;
const SHT_NOTE = 7;
const SHT_DYNSYM = 11;
const PT_LOAD = 1;
const STT_FUNC = 2;
const STT_GNU_IFUNC = 10;
const NT_GNU_BUILD_ID = 3;
const SYM_SIZE = 24;
/** Symbols read per positioned read: 64 KiB of symbol table at a time. */
const SYM_CHUNK = Math.floor(65536 / SYM_SIZE);

interface Section {
  type: number;
  offset: number;
  size: number;
  link: number;
  name: string;
}

export interface LoadSegment {
  offset: number;
  vaddr: number;
  filesz: number;
}

/** Function symbols sorted by address; names are read from the string table on demand. */
export interface FunctionSymbols {
  addrs: Float64Array;
  sizes: Float64Array;
  nameOffsets: Uint32Array;
  strtabOffset: number;
  /** Bytes the arrays hold, for the cache's memory bound. */
  bytes: number;
}

/** One open ELF file. Offsets and addresses are numbers: user-space addresses stay below 2^53. */
export class ElfFile {
  readonly sections: Section[];
  readonly loads: LoadSegment[];
  private readonly names = new Map<number, string>();
  private readonly scratch = Buffer.alloc(256);

  private constructor(
    private readonly fd: number,
    header: DataView,
  ) {
    this.loads = this.readLoads(header);
    this.sections = this.readSections(header);
  }

  /** Opens `path`; undefined when it is not a little-endian ELF64 file. */
  static open(path: string): ElfFile | undefined {
    const fd = openSync(path, "r");
    try {
      const header = view(pread(fd, 0, 64));
      if (header.byteLength < 64 || header.getUint32(0, true) !== ELF_MAGIC) throw new Error("not ELF");
      if (header.getUint8(4) !== ELFCLASS64 || header.getUint8(5) !== ELFDATA2LSB) throw new Error("not ELF64 LE");
      return new ElfFile(fd, header);
    } catch {
      closeSync(fd);
      return undefined;
    }
  }

  close(): void {
    closeSync(this.fd);
  }

  /** The GNU build id as hex, from its note section. */
  buildId(): string | undefined {
    const note = this.sections.find((s) => s.type === SHT_NOTE && s.name === ".note.gnu.build-id");
    if (!note || note.size < 16 || note.size > 1024) return undefined;
    const v = view(pread(this.fd, note.offset, note.size));
    const [nameSize, descSize, type] = [v.getUint32(0, true), v.getUint32(4, true), v.getUint32(8, true)];
    const descAt = 12 + align4(nameSize);
    if (type !== NT_GNU_BUILD_ID || descAt + descSize > note.size) return undefined;
    return Buffer.from(v.buffer, v.byteOffset + descAt, descSize).toString("hex");
  }

  /** Whether it has a full symbol table (not only the dynamic one). */
  hasSymtab(): boolean {
    return this.sections.some((s) => s.type === SHT_SYMTAB && s.size > 0);
  }

  /** Function symbols of .symtab, else of .dynsym; undefined when it has neither. */
  functionSymbols(): FunctionSymbols | undefined {
    const table = this.sections.find((s) => s.type === SHT_SYMTAB) ?? this.sections.find((s) => s.type === SHT_DYNSYM);
    const strtab = table && this.sections[table.link];
    if (!table || !strtab) return undefined;
    const cols = this.readFunctions(table);
    return sortSymbols(cols, dedupe(cols, sortedOrder(cols), (i) => this.readName(strtab.offset + cols.names[i]!)), strtab.offset);
  }

  /** A function's name from the string table; names of frames are asked for again and again, so they are kept. */
  name(symbols: FunctionSymbols, index: number): string {
    const at = symbols.strtabOffset + symbols.nameOffsets[index]!;
    let name = this.names.get(at);
    if (name === undefined) this.names.set(at, (name = this.readName(at)));
    return name;
  }

  /** A NUL-terminated string at a file offset, read through one reused buffer (no garbage per name). */
  private readName(at: number): string {
    let name = "";
    for (let off = at; ; off += this.scratch.length) {
      const n = readSync(this.fd, this.scratch, 0, this.scratch.length, off);
      const nul = this.scratch.subarray(0, n).indexOf(0);
      name += this.scratch.toString("latin1", 0, nul < 0 ? n : nul);
      if (nul >= 0 || n < this.scratch.length) return name;
    }
  }

  /** The link-time address of a file offset, through the load segment containing it. */
  vaddrOf(fileOffset: number): number | undefined {
    const seg = this.loads.find((l) => fileOffset >= l.offset && fileOffset < l.offset + l.filesz);
    return seg && fileOffset - seg.offset + seg.vaddr;
  }

  private readLoads(h: DataView): LoadSegment[] {
    const [phoff, phentsize, phnum] = [num64(h, 32), h.getUint16(54, true), h.getUint16(56, true)];
    if (phnum === 0 || phentsize < 56) return [];
    const v = view(pread(this.fd, phoff, phentsize * phnum));
    const loads: LoadSegment[] = [];
    for (let i = 0; i < phnum; i++) {
      const at = i * phentsize;
      if (v.getUint32(at, true) !== PT_LOAD) continue;
      loads.push({ offset: num64(v, at + 8), vaddr: num64(v, at + 16), filesz: num64(v, at + 32) });
    }
    return loads;
  }

  private readSections(h: DataView): Section[] {
    const [shoff, shentsize, shnum, shstrndx] = [num64(h, 40), h.getUint16(58, true), h.getUint16(60, true), h.getUint16(62, true)];
    if (shnum === 0 || shentsize < 64) return [];
    const v = view(pread(this.fd, shoff, shentsize * shnum));
    const raw = Array.from({ length: shnum }, (_, i) => {
      const at = i * shentsize;
      return { nameOff: v.getUint32(at, true), type: v.getUint32(at + 4, true), offset: num64(v, at + 24), size: num64(v, at + 32), link: v.getUint32(at + 40, true) };
    });
    const strtab = raw[shstrndx];
    const names = strtab && strtab.size < 1 << 20 ? pread(this.fd, strtab.offset, strtab.size) : undefined;
    return raw.map((s) => ({ ...s, name: names ? cString(names, s.nameOff) : "" }));
  }

  /** Defined functions with an address, read 64 KiB at a time: memory is the kept symbols, not the table. */
  private readFunctions(table: Section): SymbolColumns {
    const count = Math.floor(table.size / SYM_SIZE);
    const cols = new SymbolColumns(count);
    const chunk = Buffer.alloc(SYM_CHUNK * SYM_SIZE);
    const v = view(chunk);
    for (let first = 0; first < count; first += SYM_CHUNK) {
      const n = Math.min(SYM_CHUNK, count - first);
      readSync(this.fd, chunk, 0, n * SYM_SIZE, table.offset + first * SYM_SIZE);
      for (let i = 0; i < n; i++) {
        const at = i * SYM_SIZE;
        const type = v.getUint8(at + 4) & 0xf;
        const value = num64(v, at + 8);
        if ((type === STT_FUNC || type === STT_GNU_IFUNC) && v.getUint16(at + 6, true) !== 0 && value !== 0) {
          cols.push(value, num64(v, at + 16), v.getUint32(at, true), v.getUint8(at + 4) >> 4);
        }
      }
    }
    return cols;
  }
}

/** Typed columns sized for the whole table: a few bytes per symbol where an array of tuples would take ten times more. */
class SymbolColumns {
  length = 0;
  readonly addrs: Float64Array;
  readonly sizes: Float64Array;
  readonly names: Uint32Array;
  readonly bindings: Uint8Array;

  constructor(capacity: number) {
    this.addrs = new Float64Array(capacity);
    this.sizes = new Float64Array(capacity);
    this.names = new Uint32Array(capacity);
    this.bindings = new Uint8Array(capacity);
  }

  push(addr: number, size: number, name: number, binding: number): void {
    this.addrs[this.length] = addr;
    this.sizes[this.length] = size;
    this.bindings[this.length] = binding;
    this.names[this.length++] = name;
  }
}

function sortedOrder(cols: SymbolColumns): Uint32Array {
  const order = new Uint32Array(cols.length).map((_, i) => i);
  return order.sort((a, b) => cols.addrs[a]! - cols.addrs[b]!);
}

const STB_GLOBAL = 1;
const STB_WEAK = 2;
const underscores = (name: string) => /^_*/.exec(name)![0].length;

/**
 * Aliases at one address (`read`, `__read`, `__libc_read`) keep one name, chosen as perf does: a sized symbol, then
 * not weak, then global, then fewer leading underscores, then the longer name. Only aliases' names are read.
 */
function dedupe(cols: SymbolColumns, order: Uint32Array, nameOf: (i: number) => string): Uint32Array {
  const kept: number[] = [];
  for (let i = 0; i < order.length; ) {
    let j = i + 1;
    while (j < order.length && cols.addrs[order[j]!] === cols.addrs[order[i]!]) j++;
    kept.push(j - i === 1 ? order[i]! : best(cols, order.subarray(i, j), nameOf));
    i = j;
  }
  return Uint32Array.from(kept);
}

function best(cols: SymbolColumns, run: Uint32Array, nameOf: (i: number) => string): number {
  const key = (i: number) => {
    const name = nameOf(i);
    const b = cols.bindings[i];
    return [cols.sizes[i]! > 0 ? 0 : 1, b === STB_WEAK ? 1 : 0, b === STB_GLOBAL ? 0 : 1, underscores(name), -name.length];
  };
  let chosen = run[0]!;
  let chosenKey = key(chosen);
  for (const i of run.subarray(1)) {
    const k = key(i);
    if (compareKeys(k, chosenKey) < 0) [chosen, chosenKey] = [i, k];
  }
  return chosen;
}

/** Lexicographic order of equal-length number tuples. */
function compareKeys(a: number[], b: number[]): number {
  for (let n = 0; n < a.length; n++) if (a[n] !== b[n]) return a[n]! - b[n]!;
  return 0;
}

function sortSymbols(cols: SymbolColumns, order: Uint32Array, strtabOffset: number): FunctionSymbols {
  const n = order.length;
  const symbols = { addrs: new Float64Array(n), sizes: new Float64Array(n), nameOffsets: new Uint32Array(n), strtabOffset, bytes: n * 20 };
  order.forEach((from, i) => {
    symbols.addrs[i] = cols.addrs[from]!;
    symbols.sizes[i] = cols.sizes[from]!;
    symbols.nameOffsets[i] = cols.names[from]!;
  });
  return symbols;
}

/** Index of the symbol containing `vaddr`: the last one starting at or below it, if its size (when known) covers it. */
export function findSymbol(symbols: FunctionSymbols, vaddr: number): number | undefined {
  let lo = 0;
  let hi = symbols.addrs.length - 1;
  if (hi < 0 || vaddr < symbols.addrs[0]!) return undefined;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (symbols.addrs[mid]! <= vaddr) lo = mid;
    else hi = mid - 1;
  }
  const size = symbols.sizes[lo]!;
  return size === 0 || vaddr < symbols.addrs[lo]! + size ? lo : undefined;
}

/** Up to `length` bytes at `offset` (fewer at the end of the file). */
function pread(fd: number, offset: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  return buf.subarray(0, readSync(fd, buf, 0, length, offset));
}

function view(buf: Buffer): DataView {
  return new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** A u64 field as a number; ELF offsets and user-space addresses fit in 53 bits. */
function num64(v: DataView, at: number): number {
  return v.getUint32(at, true) + v.getUint32(at + 4, true) * 0x1_0000_0000;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}

function cString(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  return buf.toString("latin1", at, end < 0 ? buf.length : end);
}
