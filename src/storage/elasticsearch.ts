// Elasticsearch/OpenSearch storage: batches documents into `_bulk` requests over fetch, retries with backoff, fails
// over between addresses, and holds a bounded in-memory backlog while the cluster is unreachable, then catches up.
//
// Why not the official client: @elastic/elasticsearch checks the `X-Elastic-Product` response header (its "product
// check") and refuses to talk to anything that is not Elasticsearch, OpenSearch included. `_bulk` is the one API we
// need, its wire format is the same on ES 7, ES 8 and OpenSearch 2, and fetch gives us timeouts and TLS options.
import type { Logger } from "../log";
import type { StorageBackend } from "./backend";
import { zeroCounts } from "./backend";
import type { Document } from "./document";
import { basicAuth, bulkEntry, itemVerdicts, statusVerdict, type BulkResponse, type Verdict } from "./es_bulk";

export interface ElasticsearchOptions {
  addresses: string[];
  index: string;
  username: string;
  password: string;
  /** Largest `_bulk` request body; a batch is sent as soon as this much is queued. */
  bulkBytes: number;
  /** A smaller batch waits at most this long. */
  flushIntervalMs: number;
  /** Queued plus in-flight bytes held in memory; documents beyond it are dropped (newest first) and counted. */
  maxBacklogBytes: number;
  /** Accept self-signed certificates, as the user guide's https examples need. */
  insecureSkipVerify: boolean;
  log: Logger;
  requestTimeoutMs?: number;
  backoffInitialMs?: number;
  backoffMaxMs?: number;
}

interface Item {
  body: string;
  bytes: number;
  at: number;
}

type Outcome = { kind: "done"; retry: Item[] } | { kind: "failed"; error: string };

export class ElasticsearchStore implements StorageBackend {
  readonly name = "elasticsearch";
  readonly counts = zeroCounts();
  private readonly queue: Item[] = [];
  private head = 0;
  private queueBytes = 0;
  private inflight: Item[] = [];
  private inflightBytes = 0;
  private next = 0;
  private wake?: () => void;
  private readonly stop = new AbortController();
  private closing = false;
  private unavailableSince = 0;
  private backlogFull = false;
  private rejecting = false;
  private readonly loop: Promise<void>;

  constructor(private readonly opts: ElasticsearchOptions) {
    this.loop = this.run();
  }

  put(doc: Document, line: string): void {
    const body = bulkEntry(this.opts.index, doc.tracer_id, line);
    const bytes = Buffer.byteLength(body);
    if (this.closing || this.heldBytes() + bytes > this.opts.maxBacklogBytes) return this.dropNewest();
    this.backlogFull = false;
    this.queue.push({ body, bytes, at: Date.now() });
    this.queueBytes += bytes;
    if (this.queued() === 1 || this.queueBytes >= this.opts.bulkBytes) this.wake?.();
  }

  backlog(): number {
    return this.queued() + this.inflight.length;
  }

  /** Bytes held in memory, queued and in flight: what maxBacklogBytes bounds. */
  heldBytes(): number {
    return this.queueBytes + this.inflightBytes;
  }

  async close(deadlineMs: number): Promise<void> {
    this.closing = true;
    this.wake?.();
    const timer = setTimeout(() => this.stop.abort(), deadlineMs);
    await this.loop;
    clearTimeout(timer);
    const left = this.backlog();
    if (left === 0) return;
    this.counts.dropped += left;
    this.opts.log.warn("elasticsearch backlog not sent before shutdown; it stays in the local files", { dropped: left });
  }

  private async run(): Promise<void> {
    while (!this.stop.signal.aborted) {
      await this.waitForBatch();
      if (this.queued() === 0) return; // closing with nothing left
      let batch = this.takeBatch();
      for (let attempt = 0; batch.length > 0 && !this.stop.signal.aborted; attempt++) {
        if (attempt > 0) await this.backoff(attempt);
        batch = await this.sendOnce(batch, attempt > 0);
      }
      // A batch still unsent here was cut short by the shutdown deadline: close counts it as dropped.
    }
  }

  private async sendOnce(batch: Item[], isRetry: boolean): Promise<Item[]> {
    if (isRetry) this.counts.retried += batch.length;
    const address = this.opts.addresses[this.next++ % this.opts.addresses.length]!;
    const outcome = await this.post(address, batch);
    if (outcome.kind === "failed") {
      this.markUnavailable(address, outcome.error);
      return batch;
    }
    this.markAvailable();
    const retry = new Set(outcome.retry);
    this.release(batch.filter((item) => !retry.has(item)));
    return outcome.retry;
  }

  private async post(address: string, batch: Item[]): Promise<Outcome> {
    try {
      const res = await fetch(`${address}/_bulk`, {
        method: "POST",
        headers: {
          "content-type": "application/x-ndjson",
          authorization: basicAuth(this.opts.username, this.opts.password),
        },
        body: batch.map((i) => i.body).join(""),
        signal: AbortSignal.any([this.stop.signal, AbortSignal.timeout(this.opts.requestTimeoutMs ?? 30_000)]),
        tls: { rejectUnauthorized: !this.opts.insecureSkipVerify },
      });
      return this.judge(res, batch);
    } catch (err) {
      return { kind: "failed", error: (err as Error).message.split("\n")[0] ?? String(err) };
    }
  }

  private async judge(res: Response, batch: Item[]): Promise<Outcome> {
    const verdict = statusVerdict(res.status);
    if (verdict === "retry") return { kind: "failed", error: `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}` };
    if (verdict === "rejected") {
      this.reject(batch.length, `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`);
      return { kind: "done", retry: [] };
    }
    const body = (await res.json()) as BulkResponse;
    const { verdicts, firstError } = body.errors === false ? allStored(batch.length) : itemVerdicts(body, batch.length);
    this.counts.stored += verdicts.filter((v) => v === "stored").length;
    const rejected = verdicts.filter((v) => v === "rejected").length;
    if (rejected > 0) this.reject(rejected, firstError ?? "item rejected");
    else this.rejecting = false;
    return { kind: "done", retry: batch.filter((_, i) => verdicts[i] === "retry") };
  }

  private reject(n: number, reason: string): void {
    this.counts.rejected += n;
    if (!this.rejecting) this.opts.log.error("elasticsearch rejected documents", { count: n, reason });
    this.rejecting = true;
  }

  private markUnavailable(address: string, error: string): void {
    if (this.unavailableSince) return;
    this.unavailableSince = Date.now();
    this.opts.log.warn("elasticsearch unavailable, holding documents in memory", {
      address,
      err: error,
      backlog: this.backlog(),
    });
  }

  private markAvailable(): void {
    if (!this.unavailableSince) return;
    const seconds = Math.round((Date.now() - this.unavailableSince) / 1000);
    this.unavailableSince = 0;
    this.opts.log.info("elasticsearch available again, catching up", { after_s: seconds, backlog: this.backlog() });
  }

  private dropNewest(): void {
    this.counts.dropped++;
    if (this.backlogFull || this.closing) return;
    this.backlogFull = true;
    this.opts.log.error("elasticsearch backlog full, dropping new documents (they stay in the local files)", {
      max_backlog_bytes: this.opts.maxBacklogBytes,
    });
  }

  /** Until a full batch is queued, the oldest queued document is flushIntervalMs old, or shutdown. */
  private async waitForBatch(): Promise<void> {
    while (!this.closing && this.queueBytes < this.opts.bulkBytes) {
      const oldest = this.queue[this.head];
      const due = oldest ? oldest.at + this.opts.flushIntervalMs - Date.now() : Infinity;
      if (due <= 0) return;
      await new Promise<void>((resolve) => {
        const timer = Number.isFinite(due) ? setTimeout(resolve, due) : undefined;
        this.wake = () => (clearTimeout(timer), resolve());
      });
      this.wake = undefined;
    }
  }

  private takeBatch(): Item[] {
    const batch: Item[] = [];
    let bytes = 0;
    while (this.head < this.queue.length) {
      const item = this.queue[this.head]!;
      if (batch.length > 0 && bytes + item.bytes > this.opts.bulkBytes) break;
      batch.push(item);
      bytes += item.bytes;
      this.head++;
    }
    // Compact now and then instead of shifting per item.
    if (this.head > 1024 && this.head * 2 > this.queue.length) this.queue.splice(0, this.head), (this.head = 0);
    this.queueBytes -= bytes;
    this.inflight = batch;
    this.inflightBytes = bytes;
    return batch;
  }

  /** Items leave memory once stored or rejected; the rest of the batch stays in flight. */
  private release(items: Item[]): void {
    const done = new Set(items);
    this.inflight = this.inflight.filter((item) => !done.has(item));
    for (const item of items) this.inflightBytes -= item.bytes;
  }

  private backoff(attempt: number): Promise<void> {
    const initial = this.opts.backoffInitialMs ?? 100;
    const max = this.opts.backoffMaxMs ?? 30_000;
    const ms = Math.min(initial * 2 ** (attempt - 1), max) * (0.8 + Math.random() * 0.4);
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.stop.signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
    });
  }

  private queued(): number {
    return this.queue.length - this.head;
  }
}

function allStored(n: number): { verdicts: Verdict[]; firstError?: string } {
  return { verdicts: new Array<Verdict>(n).fill("stored") };
}
