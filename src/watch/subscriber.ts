// One watch client: its filter, a bounded queue of SSE frames, and an account of what it was not sent. The HTTP
// stream pulls from it only as fast as the socket drains, so a slow client fills its own queue and nobody else's.
import { noticeFrame, PING } from "./cloudevents";
import { matches, type FilterFields, type WatchFilter } from "./filters";

/** One published event: only what filters need besides the encoded frame, so the backlog holds each payload once. */
export interface HubEntry {
  seq: number;
  fields: FilterFields;
  frame: string;
}

export interface WatchCounters {
  published: number;
  delivered: number;
  /** slow_client: its queue was full; gap: aged out of the backlog before a client resumed; disconnected: queued when it left. */
  dropped: { slow_client: number; gap: number; disconnected: number };
}

/** Keepalive ticks in a row in which the client took nothing before its stream is closed ("three failed writes"). */
const MAX_STALLED_TICKS = 3;

export class Subscriber {
  private readonly queue: string[] = [];
  private queuedEvents = 0;
  private dropped = 0;
  private droppedFirst = 0;
  private droppedLast = 0;
  /** Bun sends the response headers with the first chunk: a ping at once shows the client the stream is open. */
  private pingDue = true;
  private waiter?: (chunk: string | undefined) => void;
  private closed = false;
  private pulls = 0;
  private pullsAtTick = 0;
  private stalledTicks = 0;

  constructor(
    private readonly filter: WatchFilter,
    private readonly capacity: number,
    private readonly hostname: string,
    private readonly counters: WatchCounters,
    /** Frames to send first: a gap notice and the backlog a resuming client missed. */
    private replay: string[],
    private replayEvents: number,
  ) {}

  offer(entry: HubEntry): void {
    if (this.closed || !matches(this.filter, entry.fields)) return;
    if (this.queuedEvents >= this.capacity) return this.drop(entry.seq);
    this.flushDropNotice();
    this.queue.push(entry.frame);
    this.queuedEvents++;
    this.wake();
  }

  /** The next chunk to write, waiting until there is one; undefined once closed. */
  next(): Promise<string | undefined> {
    this.pulls++;
    if (this.closed) return Promise.resolve(undefined);
    const chunk = this.take();
    if (chunk) return Promise.resolve(chunk);
    return new Promise((resolve) => (this.waiter = resolve));
  }

  /**
   * Called every KeepAliveInterval: queues a `: ping`. Returns false when the client took nothing for
   * MAX_STALLED_TICKS intervals in a row (a dead peer that never reset the connection): the caller closes it.
   */
  keepAlive(): boolean {
    const progressed = this.waiter !== undefined || this.pulls !== this.pullsAtTick;
    this.pullsAtTick = this.pulls;
    this.stalledTicks = progressed ? 0 : this.stalledTicks + 1;
    if (this.stalledTicks >= MAX_STALLED_TICKS) return false;
    this.pingDue = true;
    this.wake();
    return true;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.counters.dropped.disconnected += this.queuedEvents + this.replayEvents;
    this.queue.length = 0;
    this.replay = [];
    this.waiter?.(undefined);
    this.waiter = undefined;
  }

  private drop(seq: number): void {
    if (this.dropped === 0) this.droppedFirst = seq;
    this.dropped++;
    this.droppedLast = seq;
    this.counters.dropped.slow_client++;
  }

  /** Tell the client how many it lost, right where they were lost. */
  private flushDropNotice(): void {
    if (this.dropped === 0) return;
    const data = { dropped: this.dropped, first_id: this.droppedFirst, last_id: this.droppedLast, reason: "slow_client" };
    this.queue.push(noticeFrame("dropped", this.hostname, data));
    this.dropped = 0;
  }

  private wake(): void {
    if (!this.waiter) return;
    const chunk = this.take();
    if (!chunk) return;
    const resolve = this.waiter;
    this.waiter = undefined;
    resolve(chunk);
  }

  /** Everything pending as one chunk: ping, replay, live frames, then a drop notice if it caught up after losses. */
  private take(): string {
    this.flushDropNotice();
    const parts = this.pingDue ? [PING] : [];
    this.pingDue = false;
    parts.push(...this.replay, ...this.queue);
    this.counters.delivered += this.replayEvents + this.queuedEvents;
    this.replay = [];
    this.replayEvents = 0;
    this.queue.length = 0;
    this.queuedEvents = 0;
    return parts.join("");
  }
}
