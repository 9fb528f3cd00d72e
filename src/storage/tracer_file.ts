// One tracer's record file: appends JSON lines in batches off the event loop, rotates by size, fsyncs at most once
// per interval, and on a write error (ENOSPC, EIO) drops the batch whole so the file never holds a torn line.
import { mkdir, open, rename, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { listRotated, rotatedName } from "./rotate";

export interface TracerFileOptions {
  dir: string;
  rotationBytes: number;
  maxRotation: number;
  /** Bytes waiting in memory while the disk is slow; a line that would exceed it is dropped. */
  maxPendingBytes: number;
  /** fsync (fdatasync) at most this often, and this long after the last write at the latest. */
  syncIntervalMs: number;
}

export interface TracerFileEvents {
  stored(n: number): void;
  dropped(n: number, err: unknown): void;
}

interface Line {
  text: string;
  bytes: number;
}

/** One write(2) call carries at most this much, so a big backlog still rotates on time. */
const MAX_WRITE_BYTES = 1 << 20;

export class TracerFile {
  private readonly queue: Line[] = [];
  private queuedBytes = 0;
  private handle?: FileHandle;
  private size = 0;
  private busy?: Promise<void>;
  private dirty = false;
  private lastSync = 0;
  private syncTimer?: Timer;

  constructor(
    private readonly name: string,
    private readonly opts: TracerFileOptions,
    private readonly events: TracerFileEvents,
  ) {}

  get path(): string {
    return join(this.opts.dir, this.name);
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Queue one line (without its newline); false when the pending bound made us drop it. */
  append(text: string): boolean {
    const bytes = Buffer.byteLength(text) + 1;
    if (this.queuedBytes + bytes > this.opts.maxPendingBytes && this.queue.length > 0) return false;
    this.queue.push({ text, bytes });
    this.queuedBytes += bytes;
    this.busy ??= this.pump();
    return true;
  }

  /** Resolves when everything queued so far was written (or dropped). */
  async drained(): Promise<void> {
    while (this.busy) await this.busy;
  }

  private async pump(): Promise<void> {
    while (this.queue.length > 0) {
      await this.writeBatch();
      // Under a steady stream the queue never empties: sync here too, not only when idle.
      if (this.dirty && this.syncDueIn() <= 0) await this.sync();
    }
    if (this.dirty) this.scheduleSync();
    this.busy = undefined;
    if (this.queue.length > 0) this.busy = this.pump();
  }

  private async writeBatch(): Promise<void> {
    let batch: Line[] = [];
    let start = -1;
    try {
      const handle = await this.ensureOpen();
      if (this.size > 0 && this.size + this.queue[0]!.bytes > this.opts.rotationBytes) await this.rotate(handle);
      start = this.size;
      batch = this.takeBatch(this.opts.rotationBytes - this.size);
      await writeAll(this.handle!, Buffer.from(batch.map((l) => l.text + "\n").join("")));
      this.size += batch.reduce((n, l) => n + l.bytes, 0);
      this.dirty = true;
      this.events.stored(batch.length);
    } catch (err) {
      // Could not open or rotate: drop a batch anyway, or a broken directory would spin on the same lines.
      if (batch.length === 0) batch = this.takeBatch(MAX_WRITE_BYTES);
      await this.abandon(start);
      this.events.dropped(batch.length, err);
    }
  }

  /** Lines from the head of the queue that fit in `room` bytes (always at least one). */
  private takeBatch(room: number): Line[] {
    const limit = Math.min(room, MAX_WRITE_BYTES);
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length && (n === 0 || bytes + this.queue[n]!.bytes <= limit)) bytes += this.queue[n++]!.bytes;
    this.queuedBytes -= bytes;
    return this.queue.splice(0, n);
  }

  private async ensureOpen(): Promise<FileHandle> {
    if (this.handle) return this.handle;
    await mkdir(this.opts.dir, { recursive: true, mode: 0o755 });
    const handle = await open(this.path, "a", 0o644);
    this.size = (await handle.stat()).size;
    this.handle = handle;
    return handle;
  }

  private async rotate(handle: FileHandle): Promise<void> {
    await handle.datasync();
    await handle.close();
    this.handle = undefined;
    this.dirty = false;
    await rename(this.path, join(this.opts.dir, rotatedName(this.opts.dir, this.name, new Date())));
    await this.prune();
    await this.ensureOpen();
  }

  /** Best effort: a rotated file that cannot be deleted costs disk, never the batch being written. */
  private async prune(): Promise<void> {
    try {
      const rotated = listRotated(this.opts.dir, this.name);
      for (const old of rotated.slice(0, Math.max(rotated.length - this.opts.maxRotation, 0))) {
        await unlink(join(this.opts.dir, old));
      }
    } catch {
      // retried at the next rotation
    }
  }

  /** After a failed write: cut a torn tail back to the last whole line (`size` >= 0) and reopen on the next write. */
  private async abandon(size: number): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    if (!handle) return;
    if (size >= 0) await handle.truncate(size).catch(() => undefined);
    await handle.close().catch(() => undefined);
  }

  private syncDueIn(): number {
    return this.lastSync + this.opts.syncIntervalMs - Date.now();
  }

  private async sync(): Promise<void> {
    this.dirty = false;
    this.lastSync = Date.now();
    await this.handle?.datasync().catch(() => undefined);
  }

  /** Data written in a burst that then stops is still synced within one interval. */
  private scheduleSync(): void {
    if (this.syncTimer) return;
    this.syncTimer = setTimeout(() => {
      this.syncTimer = undefined;
      this.busy ??= this.sync().then(() => {
        this.busy = undefined;
        if (this.queue.length > 0) this.busy = this.pump();
      });
    }, Math.max(this.syncDueIn(), 0));
    this.syncTimer.unref();
  }

  /** Write what is queued, fsync and close; called once at shutdown. */
  async close(): Promise<void> {
    await this.drained();
    clearTimeout(this.syncTimer);
    const handle = this.handle;
    this.handle = undefined;
    await handle?.datasync().catch(() => undefined);
    await handle?.close().catch(() => undefined);
  }

  /** Forget what is still queued (shutdown deadline passed); returns how many lines. */
  discard(): number {
    const n = this.queue.length;
    this.queue.length = 0;
    this.queuedBytes = 0;
    return n;
  }
}

async function writeAll(handle: FileHandle, buf: Buffer): Promise<void> {
  for (let off = 0; off < buf.length; ) {
    const { bytesWritten } = await handle.write(buf, off, buf.length - off);
    off += bytesWritten;
  }
}
