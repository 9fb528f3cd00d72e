// Finds the BPF objects and the native library that scripts/build-bpf.sh embeds through gen/embedded.ts.
// Imported lazily so that a checkout without a BPF build still runs everything else.
import { BpfError } from "./errors";

export interface EmbeddedAssets {
  bpfObjects: Record<string, string>;
  nativeLibraryPath: string;
}

let assets: Promise<EmbeddedAssets> | undefined;

export function embeddedAssets(): Promise<EmbeddedAssets> {
  assets ??= import("./gen/embedded").catch((err: Error) => {
    throw new BpfError("load embedded BPF assets", `src/bpf/gen/embedded.ts: ${err.message}`, {
      hint: "build the BPF layer with bash scripts/build-bpf.sh",
    });
  });
  return assets;
}
