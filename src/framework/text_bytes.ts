// Text appended as UTF-8 into one growing buffer: a big scrape's exposition without a 25 MB string and its copy.

const encoder = new TextEncoder();

export class TextBytes {
  private buffer: Uint8Array<ArrayBuffer>;
  private length = 0;

  /** `expected`: a size the text will probably reach (the previous scrape's), so the buffer rarely grows. */
  constructor(expected = 64 * 1024) {
    this.buffer = new Uint8Array(expected);
  }

  write(text: string): void {
    // UTF-8 takes at most three bytes per UTF-16 code unit.
    this.reserve(text.length * 3);
    this.length += encoder.encodeInto(text, this.buffer.subarray(this.length)).written;
  }

  bytes(): Uint8Array<ArrayBuffer> {
    return this.buffer.subarray(0, this.length);
  }

  private reserve(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(this.buffer.length * 2, this.length + extra));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
  }
}
