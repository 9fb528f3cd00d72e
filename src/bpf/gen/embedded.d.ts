// Types of embedded.ts, which scripts/build-bpf.sh generates (and git ignores): lets a fresh clone type-check.
/** Paths (in the executable's virtual filesystem when compiled) of each tracer's BPF object. */
export declare const bpfObjects: Record<string, string>;
export declare const nativeLibraryPath: string;
