// `events tail`: follows a running agent's POST /v1/events/watch stream, one line per event, reconnecting with
// backoff and Last-Event-ID so a restart of the agent or a network blip loses nothing the backlog still holds.
import type { ChalkInstance } from "chalk";
import type { Document } from "../../storage/document";
import { formatTracerTime } from "../../storage/time";
import { SseParser, type SseMessage } from "../../watch/sse_parser";
import { renderLine, renderWarning } from "./format";

export interface TailOptions {
  server: string;
  /** Sent to the server: tracer_name, hostname, container_host_namespace, region. */
  filters: Record<string, string>;
  /** Applied here: the server cannot filter on container_id. */
  container?: RegExp;
  json: boolean;
  chalk: ChalkInstance;
  signal: AbortSignal;
  out: (line: string) => void;
  err: (line: string) => void;
}

type Outcome = { retry: string; received: boolean } | { fatal: string; code: number };

const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 30_000;

/** Runs until `signal` aborts (exit 0) or the server refuses the request for good (exit 2 or 1). */
export async function runTail(opts: TailOptions): Promise<number> {
  const state = { lastId: undefined as string | undefined };
  let backoff = BACKOFF_MIN_MS;
  while (!opts.signal.aborted) {
    const outcome = await connectOnce(opts, state);
    if (opts.signal.aborted) break;
    if ("fatal" in outcome) {
      opts.err(`huatuo-bamai: events tail: ${outcome.fatal}`);
      return outcome.code;
    }
    if (outcome.received) backoff = BACKOFF_MIN_MS;
    opts.err(opts.chalk.dim(`${outcome.retry}; reconnecting in ${backoff / 1000}s`));
    await sleep(backoff, opts.signal);
    backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
  }
  return 0;
}

async function connectOnce(opts: TailOptions, state: { lastId?: string }): Promise<Outcome> {
  const url = `${opts.server.replace(/\/+$/, "")}/v1/events/watch`;
  let res: Response;
  try {
    res = await fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "text/event-stream",
        ...(state.lastId && { "last-event-id": state.lastId }),
      },
      body: JSON.stringify({ filters: opts.filters }),
      signal: opts.signal,
    });
  } catch (err) {
    return { retry: `cannot connect to ${opts.server}: ${short(err)}`, received: false };
  }
  if (res.status === 400) return { fatal: `the agent refused the filters: ${await errorMessage(res)}`, code: 2 };
  if (res.status === 404) return { fatal: `${url} not found: is ${opts.server} a huatuo-bamai agent?`, code: 1 };
  if (res.status !== 200) return { retry: `the agent answered ${res.status}: ${await errorMessage(res)}`, received: false };
  opts.err(opts.chalk.dim(`watching ${url}${state.lastId ? ` from id ${state.lastId}` : ""}`));
  return readStream(res, opts, state);
}

async function readStream(res: Response, opts: TailOptions, state: { lastId?: string }): Promise<Outcome> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  let received = false;
  try {
    for await (const chunk of res.body!) {
      received = true; // the agent pings at once: a stream that got this far was healthy
      for (const message of parser.push(decoder.decode(chunk, { stream: true }))) {
        if (message.id) state.lastId = message.id;
        show(message, opts);
      }
    }
    return { retry: "the agent closed the stream", received };
  } catch (err) {
    return { retry: `stream broken: ${short(err)}`, received };
  }
}

function show(message: SseMessage, opts: TailOptions): void {
  let event: { data: Record<string, unknown> };
  try {
    event = JSON.parse(message.data);
  } catch {
    return opts.err(renderWarning(`not a JSON event: ${message.data.slice(0, 80)}`, opts.chalk));
  }
  if (message.event === "message") {
    const doc = documentOf(event.data);
    if (opts.container && !opts.container.test(doc.container_id ?? "") && !opts.container.test(doc.container_hostname ?? "")) return;
    opts.out(opts.json ? message.data : renderLine(doc, opts.chalk));
  } else if (opts.json) {
    opts.out(message.data);
  } else {
    opts.err(renderWarning(noticeText(message.event, event.data), opts.chalk));
  }
}

function noticeText(kind: string, data: Record<string, unknown>): string {
  if (kind === "gap") {
    const lost = data.lost === null ? "an unknown number of" : String(data.lost);
    const why = data.reason === "agent_restarted" ? "the agent restarted" : "its backlog no longer holds them";
    return `missed ${lost} events while disconnected: ${why}`;
  }
  if (kind === "dropped") return `${String(data.dropped)} events dropped: this client read too slowly`;
  return `${kind}: ${JSON.stringify(data)}`;
}

/** The watch event's data as a document, for the same one-line rendering as stored events. */
function documentOf(data: Record<string, unknown>): Document {
  const observed = Date.parse(String(data.observed_timestamp));
  return {
    ...(data as unknown as Document),
    tracer_time: Number.isNaN(observed) ? String(data.observed_timestamp) : formatTracerTime(new Date(observed)),
  };
}

/** Bun's fetch errors end in advice meant for developers ("For more information, pass `verbose: true`..."). */
function short(err: unknown): string {
  return ((err as Error).message ?? String(err)).split("\n")[0]!.replace(/ For more information.*$/, "");
}

async function errorMessage(res: Response): Promise<string> {
  const text = await res.text();
  try {
    return (JSON.parse(text) as { error: { message: string } }).error.message;
  } catch {
    return text.slice(0, 200).trim() || res.statusText;
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
  });
}
