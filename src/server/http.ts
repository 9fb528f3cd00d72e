// The agent's HTTP server: a small route table over Bun.serve with rate limiting, request metrics and JSON errors.
import type { Server } from "bun";
import type { Logger } from "../log";
import { RateLimiter } from "./rate_limit";
import type { SelfMetrics } from "./self_metrics";

export interface RequestContext {
  clientIp: string;
  server: Server<undefined>;
  url: URL;
}

export type Handler = (req: Request, ctx: RequestContext) => Response | Promise<Response>;

export interface HttpServerOptions {
  listenAddress: string;
  requestsPerSecond: number;
  maxBodyBytes: number;
  log: Logger;
  metrics: SelfMetrics;
}

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

/** HUATUO's error envelope: `{"error":{"code":"...","message":"..."}}`. */
export function jsonError(status: number, code: string, message: string): Response {
  return jsonResponse(status, { error: { code, message } });
}

/** Split `host:port`, `:port` or `[v6]:port`; an empty host listens on every interface. */
export function parseListenAddress(address: string): { hostname: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(address);
  const port = match ? Number(match[3]) : NaN;
  if (!match || port > 65535) throw new Error(`invalid listen address ${JSON.stringify(address)}: want host:port`);
  return { hostname: match[1] ?? (match[2] || "0.0.0.0"), port };
}

export class HttpServer {
  private readonly routes = new Map<string, Map<string, Handler>>();
  private readonly limiter: RateLimiter;
  private server?: Server<undefined>;

  constructor(private readonly opts: HttpServerOptions) {
    this.limiter = new RateLimiter(opts.requestsPerSecond);
  }

  route(method: string, path: string, handler: Handler): void {
    const byMethod = this.routes.get(path) ?? new Map<string, Handler>();
    byMethod.set(method, handler);
    this.routes.set(path, byMethod);
  }

  /** Bind now: a port in use fails startup with one clear line. */
  listen(): { hostname: string; port: number } {
    const { hostname, port } = parseListenAddress(this.opts.listenAddress);
    try {
      this.server = Bun.serve({
        hostname,
        port,
        maxRequestBodySize: this.opts.maxBodyBytes,
        fetch: (req, server) => this.dispatch(req, server),
        error: (err) => {
          this.opts.log.error("request failed", { err });
          return jsonError(500, "internal_error", "internal error");
        },
      });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === "EADDRINUSE" ? "address already in use" : (err as Error).message;
      throw new Error(`listen ${this.opts.listenAddress}: ${why}`);
    }
    return { hostname, port: this.server.port ?? port };
  }

  private async dispatch(req: Request, server: Server<undefined>): Promise<Response> {
    const started = performance.now();
    const url = new URL(req.url);
    const clientIp = server.requestIP(req)?.address ?? "unknown";
    const byMethod = this.routes.get(url.pathname);
    const route = byMethod ? url.pathname : "unmatched";
    let response: Response;
    if (!this.limiter.allow(clientIp)) {
      response = jsonError(429, "rate_limited", "too many requests");
    } else if (!byMethod) {
      response = jsonError(404, "not_found", `no route ${url.pathname}`);
    } else {
      const handler = byMethod.get(req.method);
      response = handler
        ? await handler(req, { clientIp, server, url })
        : jsonError(405, "method_not_allowed", `${req.method} not allowed on ${url.pathname}`);
    }
    this.opts.metrics.observeRequest(route, req.method, response.status, (performance.now() - started) / 1000);
    return response;
  }

  async stop(): Promise<void> {
    await this.server?.stop(true);
  }
}
