// Event readers over BPF ring buffers and perf buffers: many records per native call into one reusable buffer,
// decoded in JavaScript; losses (kernel-side drops) are counted, never silent.
import { nativeFailure } from "./errors";
import type { Native } from "./native";
import { pollerOf } from "./poller";

const RECORD_HEADER = 8; // struct hb_record_hdr { u32 len; u32 cpu; }
const NO_CPU = 0xffffffff;
/** A perf record's size is a u16: a read that left more room than this found the perf buffer empty. */
const MAX_PERF_RECORD = RECORD_HEADER + 0xffff;

export interface ReaderOptions {
  /** Bytes drained per native call (default 1 MiB); a record larger than this could never be read. */
  bufferBytes?: number;
  /** Perf buffers only: pages per CPU, a power of two (default 16). */
  perfPages?: number;
}

/** Called for each record: its payload is `view` bytes [offset, offset + length); cpu is -1 for ring buffers. */
export type RecordVisitor = (view: DataView, offset: number, length: number, cpu: number) => void;
export type Decoder<T> = (view: DataView, offset: number) => T;

/**
 * One drain buffer for every reader: reads run on the JavaScript thread and each record is decoded (copied out)
 * before the next read, so readers never need their own megabyte each. It only grows.
 */
let sharedDrain = { bytes: Buffer.alloc(0), view: new DataView(new ArrayBuffer(0)) };

function drainBuffer(size: number): { bytes: Buffer; view: DataView } {
  if (sharedDrain.bytes.length < size) {
    const bytes = Buffer.alloc(size);
    sharedDrain = { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
  }
  return sharedDrain;
}

export class EventReader {
  private readonly lostScratch = Buffer.alloc(8);
  /** Bytes the last read filled. */
  private filled = 0;
  /** Aborted by close(), which ends a pump before the reader's descriptor goes away. */
  private readonly closing = new AbortController();

  constructor(
    private readonly native: Native,
    private readonly handle: number,
    private readonly id: number,
    readonly name: string,
    private readonly bufferBytes: number,
  ) {
    drainBuffer(bufferBytes);
  }

  /** Drains what is ready (waiting up to timeoutMs when nothing is; this blocks the thread) and visits it. */
  read(visit: RecordVisitor, timeoutMs = 0): number {
    const { bytes, view } = drainBuffer(this.bufferBytes);
    const count = this.native.api.hb_reader_read(this.handle, this.id, bytes, this.bufferBytes, timeoutMs);
    if (count < 0) throw nativeFailure(`read events from ${this.name}`, this.native.error(this.handle));
    let offset = 0;
    for (let i = 0; i < count; i++) {
      const length = view.getUint32(offset, true);
      const cpu = view.getUint32(offset + 4, true);
      visit(view, offset + RECORD_HEADER, length, cpu === NO_CPU ? -1 : cpu);
      offset += (RECORD_HEADER + length + 7) & ~7;
    }
    this.filled = offset;
    return count;
  }

  /**
   * The last read may have stopped for want of room. A perf buffer is not reported ready again for what it still
   * holds, so this decides whether to read on at once; a ring buffer stays ready (level-triggered) until empty.
   */
  get mayHoldMore(): boolean {
    return this.filled + MAX_PERF_RECORD > this.bufferBytes;
  }

  /** Like read, decoding each record. */
  drain<T>(decode: Decoder<T>, onEvent: (event: T, cpu: number) => void, timeoutMs = 0): number {
    return this.read((view, offset, _length, cpu) => onEvent(decode(view, offset), cpu), timeoutMs);
  }

  /**
   * Drains until signal aborts or the reader closes, without blocking the event loop: whenever the shared poller
   * reports records ready, and straight on while they keep coming.
   */
  async pump<T>(decode: Decoder<T>, onEvent: (event: T, cpu: number) => void, signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.closing.signal.aborted) return;
    const fd = this.native.api.hb_reader_fd(this.handle, this.id);
    if (fd < 0) throw nativeFailure(`poll ${this.name}`, this.native.error(this.handle));
    const ready = () => this.drain(decode, onEvent) > 0 && this.mayHoldMore;
    await pollerOf(this.native).watch(fd, ready, AbortSignal.any([signal, this.closing.signal]));
  }

  /**
   * Records the kernel dropped: a ring buffer's `<name>_lost` counters, or perf buffer overruns (which the
   * kernel reports with the next record that fits, so they show up after the following drain).
   */
  lost(): number {
    if (this.native.api.hb_reader_lost(this.handle, this.id, this.lostScratch) < 0) {
      throw nativeFailure(`lost count of ${this.name}`, this.native.error(this.handle));
    }
    return Number(this.lostScratch.readBigUInt64LE(0));
  }

  close(): void {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    this.native.api.hb_reader_close(this.handle, this.id);
  }
}
