// Storm backoff of hungtask and softlockup (notes §5.1, §13.2 item 17): the first event is stored at once, the next
// only after 10 min, then 20, 40, ... up to 3 h; a quiet spell of the last interval plus 1 h starts again at 10 min.
const MINUTE_MS = 60_000;

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  decayMs?: number;
}

export class StormBackoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly decayMs: number;
  private nextAllowed = 0;
  private lastAllowed?: number;
  private interval = 0;

  constructor(o: BackoffOptions = {}) {
    this.initialMs = o.initialMs ?? 10 * MINUTE_MS;
    this.maxMs = o.maxMs ?? 180 * MINUTE_MS;
    this.decayMs = o.decayMs ?? 60 * MINUTE_MS;
  }

  /** Whether an event at `now` (ms) may be stored; if so, the next one waits for the following interval. */
  allow(now: number): boolean {
    if (this.lastAllowed !== undefined && now < this.nextAllowed) return false;
    const quiet = this.lastAllowed === undefined || now - this.lastAllowed > this.interval + this.decayMs;
    this.interval = quiet ? this.initialMs : Math.min(this.interval * 2, this.maxMs);
    this.lastAllowed = now;
    this.nextAllowed = now + this.interval;
    return true;
  }
}
