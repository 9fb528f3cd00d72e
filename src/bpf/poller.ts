// The agent's one event poller: a native thread sleeps on every event source (ring and perf buffers, sockets,
// /dev/kmsg) and names the ready ones through a pipe Bun's event loop watches, so an idle agent never wakes for them.
import { writeSync } from "node:fs";
import { nativeFailure } from "./errors";
import { HB_GLOBAL, loadNative, type Native } from "./native";

/**
 * After a report was read the thread rests this long before it waits again: a source busy at a moderate rate is
 * read in batches (at most 5 wake-ups a second) instead of once per record, and its records wait at most this
 * long; the first record after a quiet spell is reported at once. Every event ring holds well over this much at its
 * in-kernel rate limit (see BENCHMARKS.md § eBPF).
 */
export const MIN_REPORT_INTERVAL_MS = 200;

export interface PollSource {
  fd: number;
  /** Reads what is ready; true when it may have stopped early (its buffer filled), to be called again at once. */
  ready(): boolean;
  /** ready() threw, or the poller broke: the source is no longer watched. */
  fail(err: Error): void;
}

const ARM = Buffer.from(new BigUint64Array([1n]).buffer);

export class Poller {
  private readonly sources = new Map<number, PollSource>();
  /** Sources to read on the next turn: just reported, just added, or not yet empty. */
  private readonly pending = new Set<number>();
  private nextTag = 0;
  private handle = -1;
  private armFd = -1;
  private pipe?: ReadableStreamDefaultReader<Uint8Array>;
  /** The thread waits (it starts armed, and is re-armed once everything reported was read). */
  private armed = false;
  private scheduled = false;

  constructor(private readonly native: Native) {}

  /**
   * Calls ready() whenever fd is readable (and once at the start) until signal aborts, which resolves; a throwing
   * ready() rejects. The caller keeps fd open until this settles.
   */
  watch(fd: number, ready: () => boolean, signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return resolve();
      let remove = () => {};
      const stop = () => {
        remove();
        resolve();
      };
      signal.addEventListener("abort", stop, { once: true });
      const fail = (err: Error) => {
        signal.removeEventListener("abort", stop);
        reject(err);
      };
      try {
        remove = this.add({ fd, ready, fail });
      } catch (err) {
        fail(err as Error);
      }
    });
  }

  /** Watches source.fd until the returned function is called; the thread runs while anything is watched. */
  add(source: PollSource): () => void {
    if (this.handle < 0) this.start();
    const tag = this.nextTag++;
    if (this.native.api.hb_poll_add(this.handle, source.fd, tag) < 0) {
      const err = nativeFailure(`poll fd ${source.fd}`, this.native.error(this.handle));
      if (this.sources.size === 0) this.stop();
      throw err;
    }
    this.sources.set(tag, source);
    this.pending.add(tag);
    this.schedule();
    return () => this.remove(tag);
  }

  private remove(tag: number): void {
    const source = this.sources.get(tag);
    if (!source) return;
    this.sources.delete(tag);
    this.pending.delete(tag);
    // fails only when the fd was closed already, which took it out of the set
    this.native.api.hb_poll_del(this.handle, source.fd);
    if (this.sources.size === 0) this.stop();
  }

  private start(): void {
    const handle = this.native.api.hb_new();
    if (handle < 0) throw nativeFailure("start the event poller", this.native.error(HB_GLOBAL));
    const fds = Buffer.alloc(8);
    const ret = this.native.api.hb_poll_start(handle, fds, MIN_REPORT_INTERVAL_MS);
    if (ret < 0) {
      const err = nativeFailure("start the event poller", this.native.error(handle));
      this.native.api.hb_free(handle);
      throw err;
    }
    this.handle = handle;
    this.armFd = fds.readInt32LE(4);
    this.armed = true;
    // Bun reads its own duplicate of the pipe, polled by its event loop
    this.pipe = Bun.file(fds.readInt32LE(0)).stream().getReader();
    void this.listen(this.pipe);
  }

  private stop(): void {
    void this.pipe?.cancel().catch(() => {});
    this.pipe = undefined;
    // joins the thread and closes the pipe and the eventfd
    this.native.api.hb_free(this.handle);
    this.handle = this.armFd = -1;
    this.armed = false;
  }

  private async listen(pipe: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    try {
      for (;;) {
        const { value, done } = await pipe.read();
        if (pipe !== this.pipe) return;
        if (done) throw new Error("the event poller's thread stopped");
        this.report(value);
      }
    } catch (err) {
      if (pipe === this.pipe) this.failAll(err as Error);
    }
  }

  /** Tags of ready sources as u32 words: one report (a single small pipe write) per arming, so chunks hold whole words. */
  private report(chunk: Uint8Array): void {
    this.armed = false;
    const view = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    for (let at = 0; at + 4 <= chunk.byteLength; at += 4) this.pending.add(view.getUint32(at, true));
    this.readPending();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.readPending();
    });
  }

  /** Reads every pending source once; those that may hold more go round again, then the thread is armed. */
  private readPending(): void {
    for (const tag of [...this.pending]) {
      const source = this.sources.get(tag);
      if (source && this.readOne(tag, source)) continue;
      this.pending.delete(tag);
    }
    if (this.handle < 0) return;
    if (this.pending.size > 0) this.schedule();
    else this.arm();
  }

  private readOne(tag: number, source: PollSource): boolean {
    try {
      return source.ready();
    } catch (err) {
      this.remove(tag);
      source.fail(err as Error);
      return false;
    }
  }

  private arm(): void {
    if (this.armed) return;
    writeSync(this.armFd, ARM);
    this.armed = true;
  }

  private failAll(err: Error): void {
    for (const [tag, source] of [...this.sources]) {
      this.remove(tag);
      source.fail(err);
    }
  }
}

let shared: Poller | undefined;

/** The process's poller over an already loaded native layer. */
export function pollerOf(native: Native): Poller {
  shared ??= new Poller(native);
  return shared;
}

/** The process's poller, loading the native layer on first use. */
export async function eventPoller(): Promise<Poller> {
  return pollerOf(await loadNative());
}
