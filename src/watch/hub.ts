// The watch hub: numbers every published document, keeps the last BacklogSize in a ring so a client reconnecting
// with Last-Event-ID gets what it missed, and offers each to every subscriber without ever waiting for one.
import type { Document } from "../storage/document";
import { eventFrame, noticeFrame } from "./cloudevents";
import { filterFields, matches, type WatchFilter } from "./filters";
import { Subscriber, type HubEntry, type WatchCounters } from "./subscriber";

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

export class WatchHub {
  readonly counters: WatchCounters = { published: 0, delivered: 0, dropped: { slow_client: 0, gap: 0, disconnected: 0 } };
  readonly firstSeq: number;
  private lastSeq: number;
  private readonly ring: Array<HubEntry | undefined>;
  private readonly subscribers = new Set<Subscriber>();

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
    for (const sub of this.subscribers) sub.offer(entry);
  }

  clients(): number {
    return this.subscribers.size;
  }

  /** A new client; `lastEventId` (the Last-Event-ID header) asks for the events after it. */
  subscribe(filter: WatchFilter, lastEventId?: string | null): Subscriber {
    const { frames, events } = this.resume(filter, lastEventId);
    const sub = new Subscriber(filter, this.opts.clientQueueSize, this.opts.hostname, this.counters, frames, events);
    this.subscribers.add(sub);
    return sub;
  }

  unsubscribe(sub: Subscriber): void {
    sub.close();
    this.subscribers.delete(sub);
  }

  /** Ends every stream (shutdown). */
  close(): void {
    for (const sub of this.subscribers) this.unsubscribe(sub);
  }

  private oldestSeq(): number {
    return Math.max(this.firstSeq, this.lastSeq - this.ring.length + 1);
  }

  /** The frames a resuming client gets first: a gap notice when the backlog no longer covers it, then the backlog. */
  private resume(filter: WatchFilter, lastEventId?: string | null): { frames: string[]; events: number } {
    const last = lastEventId && /^\d{1,16}$/.test(lastEventId.trim()) ? Number(lastEventId) : undefined;
    if (last === undefined || last >= this.lastSeq) return { frames: [], events: 0 };
    const oldest = this.oldestSeq();
    const frames: string[] = [];
    if (last < oldest - 1) frames.push(this.gapNotice(last, oldest));
    for (let seq = Math.max(last + 1, oldest); seq <= this.lastSeq; seq++) {
      const entry = this.ring[seq % this.ring.length]!;
      if (matches(filter, entry.fields)) frames.push(entry.frame);
    }
    return { frames, events: frames.length - (last < oldest - 1 ? 1 : 0) };
  }

  /** lost counts every event (before filtering) that left the backlog; null when the id is from an earlier run. */
  private gapNotice(last: number, oldest: number): string {
    const earlierRun = last < this.firstSeq - 1;
    const lost = earlierRun ? null : oldest - 1 - last;
    // From an earlier run the total is unknown, but this run's events that already left the backlog are lost too.
    this.counters.dropped.gap += lost ?? oldest - this.firstSeq;
    const reason = earlierRun ? "agent_restarted" : "backlog_exceeded";
    return noticeFrame("gap", this.opts.hostname, { last_event_id: last, next_event_id: oldest, lost, reason });
  }
}
