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
  /**
   * Each event a client did not get, once, under the reason that first lost it (a resume does not count again what
   * the client's earlier connection already counted): slow_client: its queue was full; disconnected: queued or
   * still to replay when it left; gap: left the backlog before the client resumed.
   */
  dropped: { slow_client: number; gap: number; disconnected: number };
}

/** What a resuming client has already been accounted for, so its new connection counts only the rest. */
export interface Resume {
  /** The client's Last-Event-ID, or the latest id when it connected without one. */
  from: number;
  /** Frames to send first: a gap notice and the backlog the client missed. */
  frames: string[];
  events: number;
  /**
   * The replayed events that an earlier connection of this client neither delivered nor counted as lost: counted
   * as disconnected if it leaves before taking them.
   */
  unaccountedEvents: number;
  /** The id of the last replayed event, or `from`. */
  lastReplayed: number;
}

/** Keepalive ticks in a row in which the client took nothing before its stream is closed ("three failed writes"). */
const MAX_STALLED_TICKS = 3;

/**
 * The most a queue holds at once, in frame characters. A client that keeps up may take a whole drained batch
 * however many events it has (ClientQueueSize bounds only what is left over from earlier turns); this bounds the
 * memory one stalled client can pin to one such batch.
 */
export const QUEUE_CHARS_LIMIT = 16 * 1024 * 1024;

export class Subscriber {
  readonly from: number;
  private readonly queue: string[] = [];
  private queuedEvents = 0;
  private queuedChars = 0;
  /** The hub turn of the last offer, and how many queued events the client had already had a chance to take then. */
  private turn = -1;
  private carried = 0;
  /** The id of the last event queued (or replayed), and of the last one the client took. */
  private lastQueued: number;
  private lastTaken: number;
  private replay: string[];
  private replayEvents: number;
  private replayUnaccounted: number;
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
    readonly filter: WatchFilter,
    private readonly capacity: number,
    private readonly hostname: string,
    private readonly counters: WatchCounters,
    resumed: Resume,
  ) {
    this.from = resumed.from;
    this.replay = resumed.frames;
    this.replayEvents = resumed.events;
    this.replayUnaccounted = resumed.unaccountedEvents;
    this.lastQueued = resumed.lastReplayed;
    this.lastTaken = resumed.from;
  }

  /**
   * `turn` changes whenever the event loop has run since the previous offer, i.e. the client has had a chance to
   * take what is queued. Only what it left there counts against ClientQueueSize: a batch published in one go is
   * queued whole for a client that keeps up, and a client that stops reading loses what comes after.
   */
  offer(entry: HubEntry, turn: number): void {
    if (this.closed || !matches(this.filter, entry.fields)) return;
    if (turn !== this.turn) {
      this.turn = turn;
      this.carried = this.queuedEvents;
    }
    const chars = entry.frame.length;
    if (this.carried >= this.capacity || this.queuedChars + chars > QUEUE_CHARS_LIMIT) return this.drop(entry.seq);
    this.flushDropNotice();
    this.queue.push(entry.frame);
    this.queuedEvents++;
    this.queuedChars += chars;
    this.lastQueued = entry.seq;
    this.wake();
  }

  /** The id of the last event handed to the client's connection (or the id it resumed from). */
  get lastDelivered(): number {
    return this.lastTaken;
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
    this.counters.dropped.disconnected += this.queuedEvents + this.replayUnaccounted;
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
    this.lastTaken = this.lastQueued;
    this.replay = [];
    this.replayEvents = 0;
    this.replayUnaccounted = 0;
    this.queue.length = 0;
    this.queuedEvents = 0;
    this.queuedChars = 0;
    this.carried = 0;
    return parts.join("");
  }
}
