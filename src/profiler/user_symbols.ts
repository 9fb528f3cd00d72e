// User-space frames to function names: /proc/<pid>/maps finds the file and offset, the file's ELF symbols the name
// (demangled).
// Files are cached by (device, inode) in an LRU bounded by count and by bytes of symbol arrays.
import { existsSync, statSync } from "node:fs";
import { basename } from "node:path";
import { procPath, readTextIfExists } from "../procfs/root";
import { demangle } from "./demangle";
import { ElfFile, findSymbol, type FunctionSymbols } from "./elf";
import { findMapping, parseMaps, type Mapping } from "./proc_maps";

export interface UserSymbolizerOptions {
  maxFiles?: number;
  maxBytes?: number;
}

interface CachedFile {
  /** The mapped file: its load segments turn file offsets into link-time addresses. */
  elf: ElfFile;
  /** Where the names come from: the file itself, or its separate debug file (build id). */
  names: ElfFile;
  symbols?: FunctionSymbols;
  bytes: number;
}

const DEFAULT_MAX_FILES = 64;
const DEFAULT_MAX_BYTES = 64 << 20;
export const UNKNOWN_FRAME = "[unknown]";

export class UserSymbolizer {
  private readonly files = new Map<string, CachedFile | null>();
  private readonly maps = new Map<number, Mapping[]>();
  private bytes = 0;
  private readonly maxFiles: number;
  private readonly maxBytes: number;

  constructor(options: UserSymbolizerOptions = {}) {
    this.maxFiles = options.maxFiles ?? DEFAULT_MAX_FILES;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  /** Reads a process's mappings once; call while the process is alive. */
  async loadProcess(pid: number): Promise<void> {
    if (this.maps.has(pid)) return;
    const text = await readTextIfExists(procPath(String(pid), "maps")).catch(() => undefined);
    this.maps.set(pid, text ? parseMaps(text) : []);
  }

  /** The frame's label: the function, else `[file]`, else `[unknown]`. */
  resolve(pid: number, addr: number): string {
    const mapping = findMapping(this.maps.get(pid) ?? [], addr);
    if (!mapping) return UNKNOWN_FRAME;
    if (mapping.inode === 0) return mapping.path.startsWith("[") ? mapping.path : UNKNOWN_FRAME;
    const file = this.file(pid, mapping);
    const fallback = `[${basename(mapping.path.replace(/ \(deleted\)$/, ""))}]`;
    if (!file?.symbols) return fallback;
    const vaddr = file.elf.vaddrOf(addr - mapping.start + mapping.offset);
    const index = vaddr === undefined ? undefined : findSymbol(file.symbols, vaddr);
    return index === undefined ? fallback : demangle(file.names.name(file.symbols, index));
  }

  /** Files cached now and the bytes of their symbol arrays. */
  usage(): { files: number; bytes: number } {
    return { files: this.files.size, bytes: this.bytes };
  }

  /** Closes every cached file. */
  close(): void {
    for (const f of this.files.values()) closeCached(f);
    this.files.clear();
    this.bytes = 0;
  }

  private file(pid: number, m: Mapping): CachedFile | undefined {
    const key = `${m.dev}:${m.inode}`;
    const hit = this.files.get(key);
    if (hit !== undefined) {
      this.files.delete(key);
      this.files.set(key, hit);
      return hit ?? undefined;
    }
    const loaded = loadFile(pid, m);
    this.files.set(key, loaded ?? null);
    this.bytes += loaded?.bytes ?? 0;
    this.evict();
    return loaded;
  }

  /** Least recently used first, keeping the newest entry whatever its size. */
  private evict(): void {
    for (const [key, f] of this.files) {
      if (this.files.size <= this.maxFiles && this.bytes <= this.maxBytes) return;
      if (this.files.size === 1) return;
      this.files.delete(key);
      this.bytes -= f?.bytes ?? 0;
      closeCached(f);
    }
  }
}

function closeCached(f: CachedFile | null): void {
  if (!f) return;
  f.elf.close();
  if (f.names !== f.elf) f.names.close();
}

/** map_files names the exact mapped file even when deleted or in another mount namespace; root/<path> is the fallback. */
function openMapped(pid: number, m: Mapping): ElfFile | undefined {
  const range = `${m.start.toString(16)}-${m.end.toString(16)}`;
  for (const path of [procPath(String(pid), "map_files", range), procPath(String(pid), "root", m.path)]) {
    try {
      if (statSync(path).ino !== m.inode) continue;
      const elf = ElfFile.open(path);
      if (elf) return elf;
    } catch {
      // gone, or not permitted: try the next way in
    }
  }
  return undefined;
}

/** A stripped file's symbols may live in /usr/lib/debug/.build-id/xx/yyyy.debug, seen from the process's root. */
function debugFile(pid: number, elf: ElfFile): ElfFile | undefined {
  if (elf.hasSymtab()) return undefined;
  const id = elf.buildId();
  if (!id || id.length < 4) return undefined;
  const path = procPath(String(pid), "root", "usr/lib/debug/.build-id", id.slice(0, 2), `${id.slice(2)}.debug`);
  return existsSync(path) ? ElfFile.open(path) : undefined;
}

function loadFile(pid: number, m: Mapping): CachedFile | undefined {
  const elf = openMapped(pid, m);
  if (!elf) return undefined;
  const debug = debugFile(pid, elf);
  const names = debug?.hasSymtab() ? debug : elf;
  if (debug && names !== debug) debug.close();
  const symbols = names.functionSymbols();
  return { elf, names, symbols, bytes: symbols?.bytes ?? 0 };
}
