// Local file storage: `<Path>/<tracer_name>`, one compact JSON document per line (grep, jq and tail -f work on it),
// rotated by size. fsync policy: at most once per second per file, and at rotation and shutdown, never per event.
import type { Logger } from "../log";
import type { StorageBackend } from "./backend";
import { zeroCounts } from "./backend";
import type { Document } from "./document";
import { TracerFile } from "./tracer_file";

export interface LocalFileOptions {
  dir: string;
  rotationBytes: number;
  maxRotation: number;
  log: Logger;
  /** Per tracer file; default 8 MiB. */
  maxPendingBytes?: number;
  /** Default 1000 ms. */
  syncIntervalMs?: number;
}

const DEFAULT_MAX_PENDING = 8 << 20;
const DEFAULT_SYNC_MS = 1000;

export class LocalFileStore implements StorageBackend {
  readonly name = "local_file";
  readonly counts = zeroCounts();
  private readonly files = new Map<string, TracerFile>();
  /** Files in an error episode, with the documents dropped since it began: one log line when it starts and ends. */
  private readonly failing = new Map<string, number>();

  constructor(private readonly opts: LocalFileOptions) {}

  put(doc: Document, line: string): void {
    const file = this.fileFor(doc.tracer_name);
    if (!file.append(line)) this.dropped(file, 1, new Error("write backlog full: the disk is not keeping up"));
  }

  backlog(): number {
    let n = 0;
    for (const f of this.files.values()) n += f.pending;
    return n;
  }

  /** Resolves when every document put so far is written or dropped (tests, shutdown). */
  async flush(): Promise<void> {
    await Promise.all([...this.files.values()].map((f) => f.drained()));
  }

  async close(deadlineMs: number): Promise<void> {
    const closing = Promise.all([...this.files.values()].map((f) => f.close()));
    const finished = await Promise.race([closing.then(() => true), Bun.sleep(deadlineMs).then(() => false)]);
    if (finished) return;
    for (const f of this.files.values()) this.counts.dropped += f.discard();
    this.opts.log.warn("local file storage did not finish writing before shutdown", { dir: this.opts.dir });
  }

  private fileFor(tracer: string): TracerFile {
    let file = this.files.get(tracer);
    if (!file) {
      file = new TracerFile(tracer, this.fileOptions(), {
        stored: (n) => this.stored(file!, n),
        dropped: (n, err) => this.dropped(file!, n, err),
      });
      this.files.set(tracer, file);
    }
    return file;
  }

  private fileOptions() {
    return {
      dir: this.opts.dir,
      rotationBytes: this.opts.rotationBytes,
      maxRotation: this.opts.maxRotation,
      maxPendingBytes: this.opts.maxPendingBytes ?? DEFAULT_MAX_PENDING,
      syncIntervalMs: this.opts.syncIntervalMs ?? DEFAULT_SYNC_MS,
    };
  }

  private stored(file: TracerFile, n: number): void {
    this.counts.stored += n;
    const lost = this.failing.get(file.path);
    if (lost === undefined) return;
    this.failing.delete(file.path);
    this.opts.log.info("local file writes recovered", { path: file.path, dropped: lost });
  }

  private dropped(file: TracerFile, n: number, err: unknown): void {
    this.counts.dropped += n;
    const lost = this.failing.get(file.path);
    this.failing.set(file.path, (lost ?? 0) + n);
    if (lost !== undefined) return;
    this.opts.log.error("local file write failed, dropping documents until it recovers", {
      path: file.path,
      err: errorLine(err),
    });
  }
}

function errorLine(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  const message = err instanceof Error ? err.message.split("\n")[0]! : String(err);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
