// POST /v1/events/watch over a real Bun server: headers, 400 and 429 envelopes, keepalive, the idle timeout,
// Last-Event-ID, and clients that stop reading.
import { afterEach, describe, expect, test } from "bun:test";
import { buildDocument } from "../storage/document";
import { MemoryLogger } from "../storage/testing";
import { WatchHub } from "../watch/hub";
import { SseParser, type SseMessage } from "../watch/sse_parser";
import { HttpServer } from "./http";
import { createSelfMetrics } from "./self_metrics";
import { registerWatchRoute } from "./watch";

interface Setup {
  hub: WatchHub;
  url: string;
}

const servers: HttpServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

function setup(maxClients = 10, keepAliveMs = 60_000, clientQueueSize = 256): Setup {
  const log = new MemoryLogger();
  const http = new HttpServer({
    listenAddress: "127.0.0.1:0",
    requestsPerSecond: 1000,
    maxBodyBytes: 1 << 20,
    log,
    metrics: createSelfMetrics({}),
  });
  const hub = new WatchHub({ hostname: "node-1", backlogSize: 1000, clientQueueSize });
  registerWatchRoute(http, { hub, limits: () => ({ maxClients, keepAliveMs }), log });
  const { port } = http.listen();
  servers.push(http);
  return { hub, url: `http://127.0.0.1:${port}/v1/events/watch` };
}

function publish(hub: WatchHub, n: number, pad = 0): void {
  hub.publish(buildDocument({ hostname: "node-1", region: "dev" }, { tracerName: "oom", data: { n, pad: "x".repeat(pad) } }));
}

/** A streaming client: collects parsed messages and comments until aborted. */
function connect(url: string, body: unknown = {}, headers: Record<string, string> = {}) {
  const abort = new AbortController();
  const parser = new SseParser();
  const messages: SseMessage[] = [];
  const response = fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
    signal: abort.signal,
  });
  const done = response.then(async (res) => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body!) messages.push(...parser.push(decoder.decode(chunk, { stream: true })));
    } catch {
      // aborted
    }
  });
  return { response, messages, parser, done, close: () => abort.abort() };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
}

describe("POST /v1/events/watch", () => {
  test("streams CloudEvents as SSE with the seed's headers", async () => {
    const { hub, url } = setup();
    const client = connect(url, { filters: { tracer_name: "^oom$" } });
    const res = await client.response;
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(res.headers.get("cache-control")).toBe("no-cache");
    await until(() => hub.clients() === 1);
    publish(hub, 1);
    await until(() => client.messages.length === 1);
    expect(JSON.parse(client.messages[0]!.data)).toMatchObject({ specversion: "1.0", data: { tracer_data: { n: 1 } } });
    client.close();
    await until(() => hub.clients() === 0);
  });

  test("bad filters and bad JSON are 400 invalid_request", async () => {
    const { url } = setup();
    const post = (body: string) => fetch(url, { method: "POST", body });
    const bad = await post(JSON.stringify({ filters: { tracer_name: "(" } }));
    expect(bad.status).toBe(400);
    const error = (await bad.json()) as { error: { code: string; message: string } };
    expect(error.error.code).toBe("invalid_request");
    expect(error.error.message).toMatch(/^filters\.tracer_name: invalid regular expression/);
    expect((await post("{")).status).toBe(400);
    expect((await post(JSON.stringify({ filters: { nope: "" } }))).status).toBe(400);
  });

  test("MaxClients: the next client gets 429 rate_limited until one leaves", async () => {
    const { hub, url } = setup(2);
    const a = connect(url);
    const b = connect(url);
    await until(() => hub.clients() === 2);
    const refused = await fetch(url, { method: "POST", body: "{}" });
    expect(refused.status).toBe(429);
    expect(await refused.json()).toEqual({ error: { code: "rate_limited", message: "max watch clients reached (2)" } });
    a.close();
    await until(() => hub.clients() === 1);
    const c = connect(url);
    expect((await c.response).status).toBe(200);
    b.close();
    c.close();
  });

  test("`: ping` every KeepAliveInterval", async () => {
    const { url } = setup(10, 100);
    const client = connect(url);
    await until(() => client.parser.comments >= 3);
    client.close();
  });

  test("a quiet stream outlives Bun's 10 s idle timeout", async () => {
    const { hub, url } = setup(10, 60_000);
    const client = connect(url);
    await until(() => hub.clients() === 1);
    await Bun.sleep(11_000);
    publish(hub, 7);
    await until(() => client.messages.length === 1);
    client.close();
  }, 20_000);

  test("Last-Event-ID resumes after the given id", async () => {
    const { hub, url } = setup();
    for (let i = 0; i < 5; i++) publish(hub, i);
    const client = connect(url, {}, { "last-event-id": String(hub.firstSeq + 2) });
    await until(() => client.messages.length === 2);
    expect(client.messages.map((m) => JSON.parse(m.data).data.tracer_data.n)).toEqual([3, 4]);
    client.close();
  });

  test("a client that keeps up gets a batch published in one go whole, far beyond ClientQueueSize", async () => {
    const { hub, url } = setup(10, 60_000, 16);
    const client = connect(url);
    await until(() => hub.clients() === 1);
    for (let batch = 0; batch < 3; batch++) {
      for (let i = 0; i < 2000; i++) publish(hub, batch * 2000 + i, 200);
      await until(() => client.messages.length === (batch + 1) * 2000);
    }
    expect(client.messages.every((m, i) => m.event === "message" && JSON.parse(m.data).data.tracer_data.n === i)).toBe(true);
    expect(hub.counters.dropped.slow_client).toBe(0);
    client.close();
  });

  test("a client that stops reading drops only its own events, and is closed after three stalled pings", async () => {
    const { hub, url } = setup(10, 200, 8);
    const port = new URL(url).port;
    const request = `POST /v1/events/watch HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}`;
    const stuck = await Bun.connect({ hostname: "127.0.0.1", port: +port, socket: { data() {}, open: (s) => void s.write(request) } });
    stuck.pause?.();
    const fast = connect(url);
    await until(() => hub.clients() === 2);
    for (let i = 0; i < 200; i++) {
      const started = performance.now();
      publish(hub, i, 100_000);
      expect(performance.now() - started).toBeLessThan(50);
      await Bun.sleep(1);
    }
    await until(() => fast.messages.length === 200);
    expect(hub.counters.dropped.slow_client).toBeGreaterThan(100);
    await until(() => hub.clients() === 1, 3000);
    stuck.end();
    fast.close();
  });
});
