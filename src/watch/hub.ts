// The watch hub: numbers every published document, keeps the last BacklogSize in a ring so a client reconnecting
// with Last-Event-ID gets what it missed, and offers each to every subscriber without ever waiting for one.
import type { Document } from "../storage/document";
import { eventFrame, noticeFrame } from "./cloudevents";
import { filterFields, filterKey, matches, type WatchFilter } from "./filters";
import { Subscriber, type HubEntry, type Resume, type WatchCounters } from "./subscriber";

export interface WatchHubOptions {
  hostname: string;
  backlogSize: number;
  clientQueueSize: number;
  /**
   * The first event id. Default: microseconds since the epoch at start, so ids keep increasing across agent restarts
   * and an id from an earlier run is recognised as such (it is below this one).
   */
  firstSeq?: number;
}

/**
 * A connection that ended: from `from` through `delivered` its client got every event, and every later one through
 * `through` was counted as lost. A client that resumes with an id in [from, delivered] and the same filters is the
 * same client, and its new connection counts only events after `through`.
 */
interface Ended {
  filter: string;
  from: number;
  delivered: number;
  through: number;
}

/** Ended connections remembered for a resume; beyond this the oldest is forgotten and its client counted afresh. */
const MAX_ENDED = 1024;

export class WatchHub {
  readonly counters: WatchCounters = { published: 0, delivered: 0, dropped: { slow_client: 0, gap: 0, disconnected: 0 } };
  readonly firstSeq: number;
  private lastSeq: number;
  private readonly ring: Array<HubEntry | undefined>;
  private readonly subscribers = new Set<Subscriber>();
  private readonly ended: Ended[] = [];
  /** Advanced once the event loop has run after a publish: subscribers then judge what a client left unread. */
  private turn = 0;
  private turnEnding = false;

  constructor(private readonly opts: WatchHubOptions) {
    this.firstSeq = opts.firstSeq ?? Date.now() * 1000;
    this.lastSeq = this.firstSeq - 1;
    this.ring = new Array<HubEntry | undefined>(opts.backlogSize);
  }

  publish(doc: Document): void {
    const seq = ++this.lastSeq;
    const entry: HubEntry = { seq, fields: filterFields(doc), frame: eventFrame(seq, doc) };
    this.ring[seq % this.ring.length] = entry;
    this.counters.published++;
    if (!this.turnEnding) {
      this.turnEnding = true;
      setImmediate(() => {
        this.turn++;
        this.turnEnding = false;
      });
    }
    for (const sub of this.subscribers) sub.offer(entry, this.turn);
  }

  clients(): number {
    return this.subscribers.size;
  }

  /** A new client; `lastEventId` (the Last-Event-ID header) asks for the events after it. */
  subscribe(filter: WatchFilter, lastEventId?: string | null): Subscriber {
    const resumed = this.resume(filter, lastEventId);
    const sub = new Subscriber(filter, this.opts.clientQueueSize, this.opts.hostname, this.counters, resumed);
    this.subscribers.add(sub);
    return sub;
  }

  unsubscribe(sub: Subscriber): void {
    if (!this.subscribers.delete(sub)) return;
    sub.close();
    if (this.ended.length >= MAX_ENDED) this.ended.shift();
    this.ended.push({ filter: filterKey(sub.filter), from: sub.from, delivered: sub.lastDelivered, through: this.lastSeq });
  }

  /** Ends every stream (shutdown). */
  close(): void {
    for (const sub of this.subscribers) this.unsubscribe(sub);
  }

  private oldestSeq(): number {
    return Math.max(this.firstSeq, this.lastSeq - this.ring.length + 1);
  }

  /** What a client gets first: a gap notice when the backlog no longer covers what it missed, then the backlog. */
  private resume(filter: WatchFilter, lastEventId?: string | null): Resume {
    const last = lastEventId && /^\d{1,16}$/.test(lastEventId.trim()) ? Number(lastEventId) : undefined;
    if (last === undefined || last >= this.lastSeq) {
      return { from: this.lastSeq, frames: [], events: 0, unaccountedEvents: 0, lastReplayed: this.lastSeq };
    }
    const accountedThrough = this.takeEnded(filterKey(filter), last)?.through ?? last;
    const oldest = this.oldestSeq();
    const frames: string[] = [];
    if (last < oldest - 1) frames.push(this.gapNotice(last, oldest, accountedThrough));
    const gap = frames.length;
    let [lastReplayed, unaccountedEvents] = [last, 0];
    for (let seq = Math.max(last + 1, oldest); seq <= this.lastSeq; seq++) {
      const entry = this.ring[seq % this.ring.length]!;
      if (!matches(filter, entry.fields)) continue;
      frames.push(entry.frame);
      lastReplayed = seq;
      if (seq > accountedThrough) unaccountedEvents++;
    }
    return { from: last, frames, events: frames.length - gap, unaccountedEvents, lastReplayed };
  }

  /** The ended connection this resume continues, if any: one whose client may have last received `last`. */
  private takeEnded(filter: string, last: number): Ended | undefined {
    const fits = (e: Ended) => e.filter === filter && e.from <= last && last <= e.delivered;
    let i = this.ended.findIndex((e) => fits(e) && e.delivered === last);
    if (i < 0) i = this.ended.findIndex(fits);
    return i < 0 ? undefined : this.ended.splice(i, 1)[0];
  }

  /**
   * The notice's lost counts every event (before filtering) that left the backlog, null when the id is from an
   * earlier run; the counter only those the client's earlier connection did not already count.
   */
  private gapNotice(last: number, oldest: number, accountedThrough: number): string {
    const earlierRun = last < this.firstSeq - 1;
    const lost = earlierRun ? null : oldest - 1 - last;
    // From an earlier run the total is unknown, but this run's events that already left the backlog are lost too.
    this.counters.dropped.gap += Math.max(0, oldest - 1 - Math.max(accountedThrough, this.firstSeq - 1));
    const reason = earlierRun ? "agent_restarted" : "backlog_exceeded";
    return noticeFrame("gap", this.opts.hostname, { last_event_id: last, next_event_id: oldest, lost, reason });
  }
}
