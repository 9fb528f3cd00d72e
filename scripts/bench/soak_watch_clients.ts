// Watch subscribers for the soak and the event pipeline benchmark: a child process holding N SSE streams to
// POST /v1/events/watch that resume with Last-Event-ID and account for every event id they did not get.
import { spawn, type Subprocess } from "bun";
import { SseParser, type SseMessage } from "../../src/watch/sse_parser";

/** One agent run as a client saw it: it starts at an `agent_restarted` gap notice (the first connect sends id 0). */
export interface RunView {
  /** next_event_id of that notice: the first id the agent still held. */
  next: number;
  first?: number;
  last?: number;
  received: number;
  /** Events the agent said it did not send: `dropped` notices (slow client) and `backlog_exceeded` gaps. */
  dropped: number;
  gapLost: number;
  /** Ids skipped without a notice covering them (silent loss), and ids seen twice. */
  unexplained: number;
  duplicates: number;
}

export interface ClientReport {
  connects: number;
  refused: number;
  runs: RunView[];
}

/** Delivery latency, CloudEvent `time` (when the agent built the document) to receipt: by latencyBin. */
export type Histogram = Record<number, number>;

export interface ProcessReport {
  clients: ClientReport[];
  /** Live events only: those built while this process was stopped (SIGSTOP) are counted in `held` instead. */
  latency: Histogram;
  held: number;
  /** Set when the process printed no report (how it ended): its subscribers are left out of the account. */
  missing?: string;
}

const BACKOFF_MIN_MS = 100;
const BACKOFF_MAX_MS = 2000;
const TICK_MS = 250;
const STALL_MS = 1000;

/** When this process last woke from a stop (SIGSTOP): checked by a timer and before each event. */
class StopWatch {
  resumedAt = 0;
  held = 0;
  private last = Date.now();
  private readonly timer = setInterval(() => this.check(), TICK_MS);

  /** More than STALL_MS since the last check: the process was halted, and has just resumed. */
  check(): void {
    const now = Date.now();
    if (now - this.last > STALL_MS) this.resumedAt = now;
    this.last = now;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** 0.1 ms bins below 100 ms, 1 ms bins above. */
function latencyBin(ms: number): number {
  return ms < 100 ? Math.max(0, Math.floor(ms * 10)) : 1000 + Math.floor(ms - 100);
}

function binUpperMs(bin: number): number {
  return bin < 1000 ? (bin + 1) / 10 : bin - 1000 + 101;
}

/** Nearest-rank percentile (q in 0..1) of merged histograms, in ms (the upper edge of its bin). */
export function percentile(hist: Histogram, q: number): number {
  const bins = Object.keys(hist).map(Number).sort((a, b) => a - b);
  const total = bins.reduce((n, b) => n + hist[b]!, 0);
  let seen = 0;
  for (const b of bins) {
    seen += hist[b]!;
    if (seen >= Math.ceil(q * total)) return binUpperMs(b);
  }
  return NaN;
}

export function mergeHistograms(hists: Histogram[]): Histogram {
  const out: Histogram = {};
  for (const h of hists) for (const [b, n] of Object.entries(h)) out[Number(b)] = (out[Number(b)] ?? 0) + n;
  return out;
}

class WatchClient {
  readonly report: ClientReport = { connects: 0, refused: 0, runs: [] };
  private lastId = "0";
  private expected?: number;

  constructor(
    private readonly url: string,
    private readonly body: string,
    private readonly latency: Histogram,
    private readonly stops: StopWatch,
  ) {}

  async loop(signal: AbortSignal): Promise<void> {
    let backoff = BACKOFF_MIN_MS;
    while (!signal.aborted) {
      if (await this.stream(signal).catch(() => false)) backoff = BACKOFF_MIN_MS;
      await Bun.sleep(backoff);
      backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    }
  }

  /** One connection until the agent ends it; true when it was accepted. */
  private async stream(signal: AbortSignal): Promise<boolean> {
    const headers = { "content-type": "application/json", "last-event-id": this.lastId };
    const res = await fetch(this.url, { method: "POST", body: this.body, headers, signal });
    if (res.status !== 200 || !res.body) {
      this.report.refused++;
      await res.body?.cancel();
      return false;
    }
    this.report.connects++;
    const parser = new SseParser();
    const decoder = new TextDecoder();
    for await (const chunk of res.body) for (const m of parser.push(decoder.decode(chunk, { stream: true }))) this.onMessage(m);
    return true;
  }

  private onMessage(m: SseMessage): void {
    if (m.event === "gap") return this.onGap(JSON.parse(m.data).data);
    if (m.event === "dropped") return this.onDropped(JSON.parse(m.data).data);
    if (m.id !== undefined) this.onEvent(Number(m.id), m.data);
  }

  private onGap(gap: { next_event_id: number; lost: number | null; reason: string }): void {
    if (gap.reason === "agent_restarted") {
      this.report.runs.push({ next: gap.next_event_id, received: 0, dropped: 0, gapLost: 0, unexplained: 0, duplicates: 0 });
    } else {
      this.run().gapLost += gap.lost ?? 0;
    }
    this.expected = gap.next_event_id;
  }

  private onDropped(notice: { dropped: number; first_id: number; last_id: number }): void {
    this.skipTo(notice.first_id);
    this.run().dropped += notice.dropped;
    this.expected = notice.last_id + 1;
  }

  private onEvent(id: number, data: string): void {
    const run = this.run();
    if (this.expected !== undefined && id < this.expected) {
      run.duplicates++;
      return;
    }
    this.skipTo(id);
    run.received++;
    run.first ??= id;
    run.last = id;
    this.expected = id + 1;
    this.lastId = String(id);
    this.observe(data);
  }

  /** Ids between the expected one and `id` arrived without any notice: silent loss. */
  private skipTo(id: number): void {
    if (this.expected !== undefined && id > this.expected) this.run().unexplained += id - this.expected;
  }

  private run(): RunView {
    let run = this.report.runs.at(-1);
    if (!run) {
      run = { next: NaN, received: 0, dropped: 0, gapLost: 0, unexplained: 0, duplicates: 0 };
      this.report.runs.push(run);
    }
    return run;
  }

  /** Latency from the CloudEvent `time` (the first "time" of the frame), unless a SIGSTOP held the event. */
  private observe(data: string): void {
    const at = data.indexOf('"time":"');
    if (at < 0) return;
    const sent = isoToMs(data.slice(at + 8, data.indexOf('"', at + 8)));
    this.stops.check();
    if (sent < this.stops.resumedAt) {
      this.stops.held++;
      return;
    }
    const bin = latencyBin(performance.timeOrigin + performance.now() - sent);
    this.latency[bin] = (this.latency[bin] ?? 0) + 1;
  }
}

/** `2025-01-02T03:04:05.123456789Z` to ms since the epoch, keeping the sub-millisecond digits. */
function isoToMs(iso: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(iso);
  if (!m) return NaN;
  return Date.parse(`${m[1]}Z`) + Number(`0.${m[2] ?? "0"}`) * 1000;
}

/**
 * Child mode: `bun soak_watch_clients.ts <url> <count>`; prints its report as one JSON line on SIGTERM. No filters:
 * every event of an agent run then has the next id, so any id a subscriber did not get shows.
 */
async function child(url: string, count: number): Promise<void> {
  const latency: Histogram = {};
  const stops = new StopWatch();
  const clients = Array.from({ length: count }, () => new WatchClient(url, "{}", latency, stops));
  const stop = new AbortController();
  process.once("SIGTERM", async () => {
    stops.stop();
    stop.abort();
    const report: ProcessReport = { clients: clients.map((c) => c.report), latency, held: stops.held };
    await Bun.write(Bun.stdout, JSON.stringify(report) + "\n");
    process.exit(0);
  });
  await Promise.all(clients.map((c) => c.loop(stop.signal)));
}

/** A running child process of watch clients. */
export interface WatchClients {
  proc: Subprocess<"ignore", "pipe", "inherit">;
  /** Streams this process holds. */
  count: number;
  /** SIGCONT (it may be stopped), SIGTERM, then its report. */
  finish(): Promise<ProcessReport>;
}

export function spawnWatchClients(url: string, count: number): WatchClients {
  const proc = spawn([process.execPath, import.meta.path, url, String(count)], {
    stdin: "ignore",
    stdout: "pipe",
    stderr: "inherit",
  });
  const output = new Response(proc.stdout).text();
  return {
    proc,
    count,
    async finish() {
      proc.kill("SIGCONT");
      proc.kill("SIGTERM");
      await proc.exited;
      const text = (await output).trim();
      if (text) return JSON.parse(text) as ProcessReport;
      return { clients: [], latency: {}, held: 0, missing: `exit code ${proc.exitCode}, signal ${proc.signalCode}` };
    },
  };
}

if (import.meta.main) await child(process.argv[2]!, Number(process.argv[3]));
