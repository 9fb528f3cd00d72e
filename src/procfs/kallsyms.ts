// Kernel symbols from /proc/kallsyms: kernel addresses (stack frames, drop locations) to `name+0xoff/0xsize [module]`
// and names to address ranges. Parsed once into compact sorted arrays and shared; reloaded after a while for new modules.
import { procPath, readTextAsync } from "./root";

export interface KernelSymbol {
  name: string;
  /** Loadable module the symbol belongs to, undefined for the core kernel. */
  module?: string;
  /** The address looked up, minus the symbol's start. */
  offset: number;
  /** Bytes until the next symbol (kallsyms has no sizes). */
  size: number;
}

/**
 * kallsyms has no sizes: a symbol is taken to end where the next one starts, which makes the last symbol before a
 * gap (end of core text, between modules, BPF JIT images loaded after the table was read) swallow the gap. No
 * function is this large, so an address further from its symbol's start is reported as unknown instead.
 */
const MAX_SYMBOL_BYTES = 1 << 20;

/** Text symbol types: kallsyms marks functions t/T (and weak ones w/W when they are defined in text). */
const TEXT_TYPES = new Set(["t", "T", "w", "W"]);

const TWO_POW_32 = 4294967296;
const isSeparator = (c: number) => c === 9 || c === 32;

/** Columns filled while scanning the text, one row per text symbol, in file order. */
class Rows {
  n = 0;
  readonly hi: Uint32Array;
  readonly lo: Uint32Array;
  readonly nameAt: Uint32Array;
  readonly nameLength: Uint16Array;
  readonly module: Uint16Array;
  readonly modules = new Map<string | undefined, number>([[undefined, 0]]);

  constructor(capacity: number) {
    this.hi = new Uint32Array(capacity);
    this.lo = new Uint32Array(capacity);
    this.nameAt = new Uint32Array(capacity);
    this.nameLength = new Uint16Array(capacity);
    this.module = new Uint16Array(capacity);
  }

  /** `ffffffff81000100 t name\t[module]`: fields located by position, the address as two 32-bit halves. */
  add(text: string, from: number, to: number): void {
    const space = text.indexOf(" ", from);
    if (space < 0 || space >= to || !TEXT_TYPES.has(text[space + 1] ?? "")) return;
    const split = Math.max(from, space - 8);
    const hi = split > from ? parseInt(text.slice(from, split), 16) : 0;
    const lo = parseInt(text.slice(split, space), 16);
    if (!(hi || lo)) return;
    const nameStart = space + 3;
    let nameEnd = nameStart;
    // Scanned by hand within the line: indexOf("\t") would run on through the rest of the file for core symbols.
    // The kernel puts a tab before "[module]"; a space is accepted too, as any whitespace separates the fields.
    while (nameEnd < to && !isSeparator(text.charCodeAt(nameEnd))) nameEnd++;
    const module = nameEnd < to ? text.slice(nameEnd + 1, to).trim().replace(/^\[|\]$/g, "") || undefined : undefined;
    if (!this.modules.has(module)) this.modules.set(module, this.modules.size);
    const row = this.n++;
    this.hi[row] = hi;
    this.lo[row] = lo;
    this.nameAt[row] = nameStart;
    this.nameLength[row] = nameEnd - nameStart;
    this.module[row] = this.modules.get(module)!;
  }
}

function scanRows(text: string): Rows {
  let lines = 1;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) lines++;
  const rows = new Rows(lines);
  for (let from = 0; from < text.length; ) {
    const newline = text.indexOf("\n", from);
    const to = newline < 0 ? text.length : newline;
    rows.add(text, from, to);
    from = to + 1;
  }
  return rows;
}

export class Kallsyms {
  /**
   * The table keeps the kallsyms text and, per symbol, typed-array entries only: its start as an offset from `base`
   * (kernel and module text span far less than 2^53 bytes, while absolute addresses 0xffff... do not fit a double),
   * where its name lies in the text, and its module's index. Names become strings only when a frame is looked up:
   * 120k symbols parsed into objects and strings cost tens of MiB; this costs about the size of the text.
   */
  private constructor(
    private readonly text: string,
    private readonly base: bigint,
    private readonly starts: Float64Array,
    private readonly nameAt: Uint32Array,
    private readonly nameLength: Uint16Array,
    private readonly moduleOf: Uint16Array,
    private readonly moduleNames: Array<string | undefined>,
  ) {}

  /** Parses kallsyms text; addresses hidden by kptr_restrict (all zero) leave it empty. */
  static parse(text: string): Kallsyms {
    const rows = scanRows(text);
    let baseHi = Infinity;
    for (let i = 0; i < rows.n; i++) baseHi = Math.min(baseHi, rows.hi[i]!);
    const unsorted = new Float64Array(rows.n);
    for (let i = 0; i < rows.n; i++) unsorted[i] = (rows.hi[i]! - baseHi) * TWO_POW_32 + rows.lo[i]!;
    const order = Uint32Array.from({ length: rows.n }, (_, i) => i).sort((a, b) => unsorted[a]! - unsorted[b]!);
    return new Kallsyms(
      text,
      rows.n ? BigInt(baseHi) << 32n : 0n,
      Float64Array.from(order, (i) => unsorted[i]!),
      Uint32Array.from(order, (i) => rows.nameAt[i]!),
      Uint16Array.from(order, (i) => rows.nameLength[i]!),
      Uint16Array.from(order, (i) => rows.module[i]!),
      [...rows.modules.keys()],
    );
  }

  get size(): number {
    return this.starts.length;
  }

  /** The symbol containing `address`: the last one starting at or below it, within MAX_SYMBOL_BYTES. */
  lookup(address: bigint): KernelSymbol | undefined {
    if (!this.size || address < this.base) return undefined;
    const at = Number(address - this.base);
    const i = this.floor(at);
    if (i < 0 || at - this.starts[i]! >= MAX_SYMBOL_BYTES) return undefined;
    const next = i + 1 < this.size ? this.starts[i + 1]! : at + 1;
    return { name: this.nameOf(i), module: this.moduleNames[this.moduleOf[i]!], offset: at - this.starts[i]!, size: next - this.starts[i]! };
  }

  /** Start and end (the next symbol's start) of the first text symbol named `name`. */
  range(name: string): { start: bigint; end: bigint } | undefined {
    for (let i = 0; i + 1 < this.size; i++) {
      if (this.nameLength[i] === name.length && this.text.startsWith(name, this.nameAt[i]!)) {
        return { start: this.base + BigInt(this.starts[i]!), end: this.base + BigInt(this.starts[i + 1]!) };
      }
    }
    return undefined;
  }

  /** The kernel's %pS form, `name+0xoff/0xsize [module]`, or the address in hex when no symbol holds it. */
  format(address: bigint): string {
    const sym = this.lookup(address);
    if (!sym) return `0x${address.toString(16)}`;
    const text = `${sym.name}+0x${sym.offset.toString(16)}/0x${sym.size.toString(16)}`;
    return sym.module ? `${text} [${sym.module}]` : text;
  }

  private nameOf(i: number): string {
    const at = this.nameAt[i]!;
    return this.text.slice(at, at + this.nameLength[i]!);
  }

  /** Index of the last start <= at, or -1. */
  private floor(at: number): number {
    let lo = 0;
    let hi = this.starts.length - 1;
    if (at < this.starts[0]!) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (this.starts[mid]! <= at) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

/** Modules come and go: a loaded table is trusted for this long. */
const MAX_AGE_MS = 5 * 60_000;
let cached: { table: Promise<Kallsyms>; loadedAt: number } | undefined;

/** The shared table of this host's /proc/kallsyms (under --procfs-prefix), loaded on first use. */
export function kernelSymbols(now = Date.now()): Promise<Kallsyms> {
  if (!cached || now - cached.loadedAt > MAX_AGE_MS) {
    const table = readTextAsync(procPath("kallsyms")).then(Kallsyms.parse);
    cached = { table, loadedAt: now };
    // a failed read is not cached: the next caller tries again
    table.catch(() => {
      if (cached?.table === table) cached = undefined;
    });
  }
  return cached.table;
}
