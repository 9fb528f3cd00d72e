// What the fan-out needs from a storage backend: a non-blocking put, exact counters, a backlog and a bounded close.
import type { Document } from "./document";

/**
 * stored: durably written (local file) or acknowledged (Elasticsearch); retried: sent again after a retryable
 * failure (one per document per attempt); dropped: given up (backlog full, write error, shutdown);
 * rejected: refused for good by the backend (for example an Elasticsearch mapping error).
 */
export type StorageResult = "stored" | "retried" | "dropped" | "rejected";
export type StorageCounts = Record<StorageResult, number>;

export function zeroCounts(): StorageCounts {
  return { stored: 0, retried: 0, dropped: 0, rejected: 0 };
}

export interface StorageBackend {
  /** The `backend` label of the storage metrics. */
  readonly name: string;
  readonly counts: StorageCounts;
  /** Queues one document; never blocks and never throws. `line` is the document as compact JSON. */
  put(doc: Document, line: string): void;
  /** Documents accepted but not yet stored. */
  backlog(): number;
  /** Flushes what it can within `deadlineMs`; what is left is counted as dropped. */
  close(deadlineMs: number): Promise<void>;
}
