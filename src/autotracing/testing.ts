// Test helpers for the detectors: a TracerContext on the default config with AutoTracing overrides, keeping what
// the detector saves, and a private procfs root whose files a test rewrites between ticks.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { defaultConfig, type Config } from "../config/schema";
import { ConfigStore } from "../config/store";
import type { TracerContext } from "../framework/types";
import type { Container } from "../pod/types";
import { setRootPrefix } from "../procfs/root";
import { buildDocument, type Document } from "../storage/document";
import { MemoryLogger } from "../storage/testing";

type AutoTracing = Config["AutoTracing"];
export type AutoOverrides = { [K in keyof AutoTracing]?: Partial<AutoTracing[K]> };

export interface TestContext {
  ctx: TracerContext;
  docs: Document[];
}

export function autoContext(overrides: AutoOverrides = {}, containers: Container[] = []): TestContext {
  const config = defaultConfig();
  const auto = config.AutoTracing as Record<string, object>;
  for (const [key, values] of Object.entries(overrides)) auto[key] = Array.isArray(values) ? values : { ...auto[key], ...values };
  const docs: Document[] = [];
  const ctx: TracerContext = {
    config: new ConfigStore(config),
    log: new MemoryLogger(),
    containers: { list: () => containers },
    region: "test",
    hostname: "node-1",
    events: {
      save: (input) => {
        const doc = buildDocument({ hostname: "node-1", region: "test" }, input);
        docs.push(doc);
        return doc;
      },
    },
  };
  return { ctx, docs };
}

/** A temporary root used as --procfs-prefix until `close`. */
export class ScriptedProc {
  readonly root = mkdtempSync(join(tmpdir(), "huatuo-autotracing-"));

  constructor() {
    setRootPrefix(this.root);
  }

  /** Writes `proc/<path>` under the root. */
  write(path: string, text: string): void {
    const file = join(this.root, "proc", path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, text);
  }

  close(): void {
    setRootPrefix("");
    rmSync(this.root, { recursive: true, force: true });
  }
}

export const never = new AbortController().signal;

function run(cmd: string[]): string {
  const p = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${p.stderr.toString().trim()}`);
  return p.stdout.toString().trim();
}

/** A loop device over a sparse file, optionally with an ext4 filesystem mounted; `close` undoes all of it. */
export class LoopDevice {
  readonly dir = mkdtempSync(join(tmpdir(), "huatuo-loop-"));
  readonly device: string;
  mountPoint?: string;

  constructor(sizeMiB: number) {
    const image = join(this.dir, "disk.img");
    run(["truncate", "-s", `${sizeMiB}M`, image]);
    this.device = run(["losetup", "--find", "--show", image]);
  }

  /** The device name as /proc/diskstats shows it (loop3). */
  get name(): string {
    return this.device.replace("/dev/", "");
  }

  mountExt4(): string {
    run(["mkfs.ext4", "-q", "-F", this.device]);
    this.mountPoint = join(this.dir, "mnt");
    mkdirSync(this.mountPoint);
    run(["mount", this.device, this.mountPoint]);
    return this.mountPoint;
  }

  close(): void {
    if (this.mountPoint) Bun.spawnSync(["umount", "-l", this.mountPoint]);
    Bun.spawnSync(["losetup", "-d", this.device]);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A copy of a system binary under a name of our own, so its samples and processes are told apart by comm. */
export function renamedBinary(binary: string, comm: string): { path: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), "huatuo-bin-"));
  const path = join(dir, comm);
  run(["cp", binary, path]);
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
