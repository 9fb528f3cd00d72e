// The fan-out behind `ctx.events.save(...)`: builds the document once, encodes it once, and hands it to the watch hub
// and to every storage backend. Each only queues, so a slow or broken one never holds up the others or the tracer.
import type { Logger } from "../log";
import type { StorageBackend } from "./backend";
import { buildDocument, toJson, type Document, type DocumentInput, type DocumentOrigin } from "./document";

/** What tracers save through (TracerContext.events). */
export interface EventSink {
  /** Stores and publishes one event; returns the document (its tracer_id names it in logs). Never throws. */
  save(input: DocumentInput): Document;
}

/** Where documents are published live (the watch hub). */
export interface DocumentPublisher {
  publish(doc: Document): void;
}

export interface DocumentSinkOptions {
  origin: DocumentOrigin;
  /** Empty with --disable-storage: documents are then only published. */
  backends: StorageBackend[];
  publisher?: DocumentPublisher;
  /** Called per saved document, e.g. to count events per tracer. */
  onSaved?: (tracerName: string) => void;
  log: Logger;
}

export class DocumentSink implements EventSink {
  constructor(private readonly opts: DocumentSinkOptions) {}

  get backends(): readonly StorageBackend[] {
    return this.opts.backends;
  }

  save(input: DocumentInput): Document {
    const doc = buildDocument(this.opts.origin, input);
    const line = this.encode(doc);
    for (const backend of this.opts.backends) this.put(backend, doc, line);
    if (line !== undefined) this.publish(doc);
    this.opts.onSaved?.(doc.tracer_name);
    return doc;
  }

  /** Closes every backend at once, each within `deadlineMs`. */
  async close(deadlineMs: number): Promise<void> {
    await Promise.all(this.opts.backends.map((b) => b.close(deadlineMs)));
  }

  /** A tracer that puts something JSON cannot hold (a cycle) loses that document, logged, never the agent. */
  private encode(doc: Document): string | undefined {
    try {
      return toJson(doc);
    } catch (err) {
      this.opts.log.error("event not stored: its data cannot be encoded as JSON", {
        tracer: doc.tracer_name,
        err: (err as Error).message,
      });
      return undefined;
    }
  }

  /** Backends do not throw by contract; if one does, only its copy is lost, and counted. */
  private put(backend: StorageBackend, doc: Document, line: string | undefined): void {
    try {
      if (line === undefined) throw new Error("not encodable");
      backend.put(doc, line);
    } catch (err) {
      backend.counts.dropped++;
      this.opts.log.debug("storage backend refused a document", { backend: backend.name, err: (err as Error).message });
    }
  }

  private publish(doc: Document): void {
    try {
      this.opts.publisher?.publish(doc);
    } catch (err) {
      this.opts.log.error("watch publish failed", { err: (err as Error).message });
    }
  }
}

/** For contexts that must not store anything (tests of metric collectors): builds and forgets. */
export const discardEvents: EventSink = {
  save: (input) => buildDocument({ hostname: "", region: "" }, input),
};
