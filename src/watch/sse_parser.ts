// An incremental Server-Sent Events parser (WHATWG HTML "event stream interpretation"), for `events tail` and tests.

export interface SseMessage {
  /** "message" unless the server named it with `event:`. */
  event: string;
  data: string;
  /** The `id:` of this message, if it had one. */
  id?: string;
}

export class SseParser {
  private buffer = "";
  private data: string[] = [];
  private event = "";
  private id?: string;
  /** Comment lines seen (`: ping`), for keepalive checks. */
  comments = 0;

  /** Feed decoded text; returns the messages it completed. Lines end in LF or CRLF (a lone CR is not a break). */
  push(text: string): SseMessage[] {
    this.buffer += text;
    const out: SseMessage[] = [];
    let start = 0;
    for (let nl = this.buffer.indexOf("\n"); nl >= 0; nl = this.buffer.indexOf("\n", start)) {
      const end = nl > start && this.buffer[nl - 1] === "\r" ? nl - 1 : nl;
      const message = this.line(this.buffer.slice(start, end));
      if (message) out.push(message);
      start = nl + 1;
    }
    this.buffer = this.buffer.slice(start);
    return out;
  }

  private line(line: string): SseMessage | undefined {
    if (line === "") return this.dispatch();
    if (line.startsWith(":")) {
      this.comments++;
      return undefined;
    }
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "data") this.data.push(value);
    else if (field === "event") this.event = value;
    else if (field === "id" && !value.includes("\0")) this.id = value;
    return undefined;
  }

  private dispatch(): SseMessage | undefined {
    const message =
      this.data.length > 0 ? { event: this.event || "message", data: this.data.join("\n"), id: this.id } : undefined;
    this.data = [];
    this.event = "";
    this.id = undefined;
    return message;
  }
}
