// Per-client token buckets so one noisy scraper or script cannot starve the agent or other clients.
const IDLE_PURGE_MS = 10 * 60 * 1000;

interface Bucket {
  tokens: number;
  last: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private calls = 0;

  /** `ratePerSecond` tokens refill per second; the burst equals one second of tokens. */
  constructor(private readonly ratePerSecond: number) {}

  allow(client: string, now = Date.now()): boolean {
    if (++this.calls % 1000 === 0) this.purge(now);
    const bucket = this.buckets.get(client) ?? { tokens: this.ratePerSecond, last: now };
    bucket.tokens = Math.min(this.ratePerSecond, bucket.tokens + ((now - bucket.last) / 1000) * this.ratePerSecond);
    bucket.last = now;
    this.buckets.set(client, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  private purge(now: number): void {
    for (const [client, bucket] of this.buckets) if (now - bucket.last > IDLE_PURGE_MS) this.buckets.delete(client);
  }
}
