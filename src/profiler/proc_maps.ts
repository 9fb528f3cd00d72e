// /proc/<pid>/maps: which file (device, inode, offset) each executable address range of a process comes from.

export interface Mapping {
  start: number;
  end: number;
  /** File offset of `start`. */
  offset: number;
  /** `major:minor` in hex as the kernel prints it, with the inode the cache key of the file. */
  dev: string;
  inode: number;
  path: string;
}

/** Executable mappings, in address order (the kernel's). Anonymous ones (JIT code) are kept with inode 0. */
export function parseMaps(text: string): Mapping[] {
  const out: Mapping[] = [];
  for (const line of text.split("\n")) {
    const m = /^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) (\S+) (\d+)\s*(.*)$/.exec(line);
    if (!m || m[3]![2] !== "x") continue;
    out.push({
      start: parseInt(m[1]!, 16),
      end: parseInt(m[2]!, 16),
      offset: parseInt(m[4]!, 16),
      dev: m[5]!,
      inode: Number(m[6]),
      path: m[7]!,
    });
  }
  return out;
}

/** The mapping holding `addr`, by binary search over the sorted list. */
export function findMapping(maps: Mapping[], addr: number): Mapping | undefined {
  let lo = 0;
  let hi = maps.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const m = maps[mid]!;
    if (addr < m.start) hi = mid - 1;
    else if (addr >= m.end) lo = mid + 1;
    else return m;
  }
  return undefined;
}
