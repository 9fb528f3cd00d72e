// POST /v1/events/watch (user guide 6.3): validates the filters, enforces MaxClients, and streams the hub's events as
// SSE with `: ping` keepalives. The stream pulls from the subscriber only as fast as the client reads.
import type { Logger } from "../log";
import type { WatchHub } from "../watch/hub";
import { parseWatchRequest } from "../watch/filters";
import type { Subscriber } from "../watch/subscriber";
import type { HttpServer, RequestContext } from "./http";
import { jsonError } from "./http";

export interface WatchRouteOptions {
  hub: WatchHub;
  /** Read per request, so a reloaded config applies to the next client. */
  limits: () => { maxClients: number; keepAliveMs: number };
  log: Logger;
}

const SSE_HEADERS = {
  "content-type": "text/event-stream",
  "cache-control": "no-cache",
  connection: "keep-alive",
  // nginx and similar proxies buffer responses unless told not to.
  "x-accel-buffering": "no",
};

export function registerWatchRoute(server: HttpServer, opts: WatchRouteOptions): void {
  server.route("POST", "/v1/events/watch", (req, ctx) => watch(req, ctx, opts));
}

async function watch(req: Request, ctx: RequestContext, opts: WatchRouteOptions): Promise<Response> {
  const { maxClients, keepAliveMs } = opts.limits();
  const full = () => jsonError(429, "rate_limited", `max watch clients reached (${maxClients})`);
  if (opts.hub.clients() >= maxClients) return full();
  const body = await readJson(req);
  if (!body.ok) return jsonError(400, "invalid_request", body.error);
  const filter = parseWatchRequest(body.value);
  if (!filter.ok) return jsonError(400, "invalid_request", filter.error);
  // Checked again: other clients may have connected while this body was read.
  if (opts.hub.clients() >= maxClients) return full();
  const sub = opts.hub.subscribe(filter.value, req.headers.get("last-event-id"));
  // Bun closes a connection idle for 10 s; this one is meant to stay open.
  ctx.server.timeout(req, 0);
  opts.log.debug("watch client connected", { client: ctx.clientIp, clients: opts.hub.clients() });
  const end = () => opts.hub.unsubscribe(sub);
  req.signal.addEventListener("abort", end, { once: true });
  return new Response(sseStream(sub, keepAliveMs, end), { headers: SSE_HEADERS });
}

async function readJson(req: Request): Promise<{ ok: true; value: unknown } | { ok: false; error: string }> {
  const text = await req.text();
  if (text.trim() === "") return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (err) {
    return { ok: false, error: `request body is not valid JSON: ${(err as Error).message}` };
  }
}

function sseStream(sub: Subscriber, keepAliveMs: number, end: () => void): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let timer: Timer | undefined;
  const finish = () => {
    clearInterval(timer);
    end();
  };
  return new ReadableStream<Uint8Array>(
    {
      start(controller) {
        timer = setInterval(() => {
          if (sub.keepAlive()) return;
          finish();
          closeQuietly(controller);
        }, keepAliveMs);
      },
      async pull(controller) {
        const chunk = await sub.next();
        if (chunk === undefined) {
          finish();
          return closeQuietly(controller);
        }
        try {
          controller.enqueue(encoder.encode(chunk));
        } catch {
          finish(); // the client went away while we waited
        }
      },
      cancel: finish,
    },
    // Pull only when the server is ready to write: backpressure reaches the subscriber's own queue.
    { highWaterMark: 0 },
  );
}

function closeQuietly(controller: ReadableStreamDefaultController<Uint8Array>): void {
  try {
    controller.close();
  } catch {
    // already closed or cancelled
  }
}
