// Kernel symbols from /proc/kallsyms: kernel addresses (stack frames, drop locations) to `name+0xoff/0xsize [module]`
// and names to address ranges. Parsed once into sorted arrays and shared; reloaded after a while for new modules.
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

export class Kallsyms {
  /**
   * Addresses as offsets from `base`, so they fit doubles exactly: kernel and module text span far less than 2^53
   * bytes on every 64-bit architecture, while the absolute addresses (0xffff...) do not.
   */
  private constructor(
    private readonly base: bigint,
    private readonly starts: Float64Array,
    private readonly names: string[],
    private readonly modules: Array<string | undefined>,
  ) {}

  /** Parses kallsyms text; addresses hidden by kptr_restrict (all zero) leave it empty. */
  static parse(text: string): Kallsyms {
    const entries: Array<{ address: bigint; name: string; module?: string }> = [];
    for (const line of text.split("\n")) {
      const [address, type, name, module] = line.split(/\s+/);
      if (!address || !name || !TEXT_TYPES.has(type ?? "")) continue;
      const value = BigInt(`0x${address}`);
      if (value === 0n) continue;
      entries.push({ address: value, name, module: module ? module.replace(/^\[|\]$/g, "") : undefined });
    }
    entries.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    const base = entries[0]?.address ?? 0n;
    return new Kallsyms(
      base,
      Float64Array.from(entries, (e) => Number(e.address - base)),
      entries.map((e) => e.name),
      entries.map((e) => e.module),
    );
  }

  get size(): number {
    return this.names.length;
  }

  /** The symbol containing `address`: the last one starting at or below it, within MAX_SYMBOL_BYTES. */
  lookup(address: bigint): KernelSymbol | undefined {
    if (!this.names.length || address < this.base) return undefined;
    const at = Number(address - this.base);
    const i = this.floor(at);
    if (i < 0 || at - this.starts[i]! >= MAX_SYMBOL_BYTES) return undefined;
    const next = i + 1 < this.starts.length ? this.starts[i + 1]! : at + 1;
    return { name: this.names[i]!, module: this.modules[i], offset: at - this.starts[i]!, size: next - this.starts[i]! };
  }

  /** Start and end (the next symbol's start) of the first text symbol named `name`. */
  range(name: string): { start: bigint; end: bigint } | undefined {
    const i = this.names.indexOf(name);
    if (i < 0 || i + 1 >= this.starts.length) return undefined;
    return { start: this.base + BigInt(this.starts[i]!), end: this.base + BigInt(this.starts[i + 1]!) };
  }

  /** The kernel's %pS form, `name+0xoff/0xsize [module]`, or the address in hex when no symbol holds it. */
  format(address: bigint): string {
    const sym = this.lookup(address);
    if (!sym) return `0x${address.toString(16)}`;
    const text = `${sym.name}+0x${sym.offset.toString(16)}/0x${sym.size.toString(16)}`;
    return sym.module ? `${text} [${sym.module}]` : text;
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
