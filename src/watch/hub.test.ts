// The hub without HTTP: CloudEvents shape, AND filters, a slow subscriber that blocks nobody and is told what it lost,
// Last-Event-ID resume, gap notices, and the keepalive stall rule.
import { describe, expect, test } from "bun:test";
import { buildDocument, type Document } from "../storage/document";
import { compileFilters, parseWatchRequest, type WatchFilter } from "./filters";
import { WatchHub } from "./hub";
import { SseParser, type SseMessage } from "./sse_parser";
import { QUEUE_CHARS_LIMIT, type Subscriber } from "./subscriber";

const FIRST = 1_000_000;

function hub(backlogSize = 100, clientQueueSize = 10): WatchHub {
  return new WatchHub({ hostname: "node-1", backlogSize, clientQueueSize, firstSeq: FIRST });
}

function doc(tracerName: string, n: number, namespace?: string): Document {
  const container = namespace
    ? ({ id: "c1", hostname: "app-pod", namespace, qos: "burstable", type: "normal" } as never)
    : undefined;
  return buildDocument({ hostname: "node-1", region: "dev" }, { tracerName, data: { n }, container });
}

function filter(raw: Record<string, unknown>): WatchFilter {
  const parsed = compileFilters(raw);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

/** Everything the subscriber has ready now, parsed. */
async function drain(sub: Subscriber): Promise<SseMessage[]> {
  const chunk = await Promise.race([sub.next(), Bun.sleep(20).then(() => "")]);
  return new SseParser().push(chunk ?? "");
}

const dataOf = (m: SseMessage) => JSON.parse(m.data);

/** Lets the event loop run once: the hub's turn ends, as between two batches a tracer drains. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const lost = (h: WatchHub) => h.counters.dropped.slow_client + h.counters.dropped.disconnected + h.counters.dropped.gap;

describe("WatchHub", () => {
  test("each event: SSE id, one data line holding a CloudEvents 1.0 event with the seed's fields", async () => {
    const h = hub();
    const sub = h.subscribe({});
    const d = doc("oom", 1, "prod");
    h.publish(d);
    const [m] = await drain(sub);
    expect(m!.id).toBe(String(FIRST));
    expect(m!.event).toBe("message");
    const ce = dataOf(m!);
    expect(Object.keys(ce)).toEqual(["specversion", "id", "source", "type", "datacontenttype", "time", "data"]);
    expect(ce).toMatchObject({
      specversion: "1.0",
      source: "/huatuo/node-1/oom",
      type: "tech.huatuo.kernel.event",
      datacontenttype: "application/json",
    });
    expect(ce.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(ce.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    expect(Date.parse(ce.time)).toBe(Date.parse(d.uploaded_time));
    expect(ce.data).toEqual({
      hostname: "node-1",
      region: "dev",
      observed_timestamp: new Date(Date.parse(ce.data.observed_timestamp)).toISOString(),
      tracer_name: "oom",
      tracer_id: d.tracer_id,
      tracer_run_type: "auto",
      container_id: "c1",
      container_hostname: "app-pod",
      container_host_namespace: "prod",
      container_type: "normal",
      container_qos: "burstable",
      tracer_data: { n: 1 },
    });
    expect(h.counters).toMatchObject({ published: 1, delivered: 1 });
  });

  test("filters are regular expressions and all must match", async () => {
    const h = hub();
    const net = h.subscribe(filter({ tracer_name: "netdev|dropwatch", container_host_namespace: "^prod$" }));
    const all = h.subscribe(filter({ tracer_name: "" }));
    h.publish(doc("dropwatch", 1, "prod"));
    h.publish(doc("dropwatch", 2)); // host event: no namespace, so ^prod$ does not match
    h.publish(doc("netdev_events", 3, "production"));
    h.publish(doc("oom", 4, "prod"));
    h.publish(doc("netdev_events", 5, "prod"));
    expect((await drain(net)).map((m) => dataOf(m).data.tracer_data.n)).toEqual([1, 5]);
    expect((await drain(all)).length).toBe(5);
  });

  test("a subscriber that stops reading loses only its own events and is told how many, where", async () => {
    const h = hub(1000, 10);
    const slow = h.subscribe({});
    const fast = h.subscribe({});
    const got: number[] = [];
    for (let i = 0; i < 50; i++) {
      h.publish(doc("oom", i));
      got.push(...(await drain(fast)).map((m) => dataOf(m).data.tracer_data.n));
      await nextTurn();
    }
    expect(got).toEqual(Array.from({ length: 50 }, (_, i) => i));
    h.publish(doc("oom", 50));
    // When it reads again: what was queued, then the notice of what it lost after that, then live events.
    const caughtUp = await drain(slow);
    expect(caughtUp.slice(0, 10).map((m) => dataOf(m).data.tracer_data.n)).toEqual(
      Array.from({ length: 10 }, (_, i) => i),
    );
    expect(caughtUp.length).toBe(11);
    expect(caughtUp[10]!.event).toBe("dropped");
    expect(caughtUp[10]!.id).toBeUndefined();
    expect(dataOf(caughtUp[10]!)).toMatchObject({
      type: "tech.huatuo.watch.dropped",
      data: { dropped: 41, first_id: FIRST + 10, last_id: FIRST + 50, reason: "slow_client" },
    });
    h.publish(doc("oom", 51));
    expect((await drain(slow)).map((m) => dataOf(m).data.tracer_data.n)).toEqual([51]);
    expect(h.counters.dropped.slow_client).toBe(41);
  });

  test("a drop notice is also sent when no event follows the loss", async () => {
    const h = hub(100, 2);
    const sub = h.subscribe({});
    for (let i = 0; i < 2; i++) h.publish(doc("oom", i));
    await nextTurn();
    for (let i = 2; i < 5; i++) h.publish(doc("oom", i));
    const messages = await drain(sub);
    expect(messages.map((m) => m.event)).toEqual(["message", "message", "dropped"]);
    expect(dataOf(messages[2]!).data.dropped).toBe(3);
  });

  test("a batch published in one go reaches a client that keeps up whole, however far beyond ClientQueueSize", async () => {
    const h = hub(100, 10);
    const sub = h.subscribe({});
    for (let batch = 0; batch < 3; batch++) {
      for (let i = 0; i < 500; i++) h.publish(doc("oom", batch * 500 + i));
      await nextTurn();
      const messages = await drain(sub);
      expect(messages.map((m) => dataOf(m).data.tracer_data.n)).toEqual(Array.from({ length: 500 }, (_, i) => batch * 500 + i));
    }
    expect(h.counters).toMatchObject({ published: 1500, delivered: 1500, dropped: { slow_client: 0, disconnected: 0, gap: 0 } });
  });

  test("a client that left a batch unread loses the next one; one batch is held only up to QUEUE_CHARS_LIMIT", async () => {
    const h = hub(100, 10);
    const sub = h.subscribe({});
    for (let i = 0; i < 500; i++) h.publish(doc("oom", i));
    await nextTurn();
    for (let i = 500; i < 510; i++) h.publish(doc("oom", i));
    expect(h.counters.dropped.slow_client).toBe(10);
    const messages = await drain(sub);
    expect(messages.length).toBe(501);
    expect(dataOf(messages[500]!).data).toMatchObject({ dropped: 10, first_id: FIRST + 500, last_id: FIRST + 509 });
    h.unsubscribe(sub);

    const big = h.subscribe({});
    const pad = "x".repeat(1 << 20);
    for (let i = 0; i < 20; i++) h.publish(buildDocument({ hostname: "node-1", region: "dev" }, { tracerName: "oom", data: { i, pad } }));
    const kept = (await drain(big)).filter((m) => m.event === "message").length;
    expect(kept).toBeGreaterThan(10);
    expect(kept).toBeLessThanOrEqual(QUEUE_CHARS_LIMIT / (1 << 20));
    expect(h.counters.dropped.slow_client).toBe(10 + 20 - kept);
  });

  test("Last-Event-ID: a reconnecting client gets what it missed, filtered, then live events", async () => {
    const h = hub();
    for (let i = 0; i < 10; i++) h.publish(doc(i % 2 ? "oom" : "dropwatch", i));
    const sub = h.subscribe(filter({ tracer_name: "^oom$" }), String(FIRST + 4));
    h.publish(doc("oom", 99));
    const messages = await drain(sub);
    expect(messages.map((m) => Number(m.id) - FIRST)).toEqual([5, 7, 9, 10]);
    // Up to date: nothing to replay.
    expect(await drain(h.subscribe({}, String(FIRST + 10)))).toEqual([]);
  });

  test("a gap notice when the backlog no longer holds what the client missed", async () => {
    const h = hub(5);
    for (let i = 0; i < 20; i++) h.publish(doc("oom", i));
    const messages = await drain(h.subscribe({}, String(FIRST + 3)));
    expect(messages[0]!.event).toBe("gap");
    expect(dataOf(messages[0]!).data).toEqual({
      last_event_id: FIRST + 3,
      next_event_id: FIRST + 15,
      lost: 11,
      reason: "backlog_exceeded",
    });
    expect(messages.slice(1).map((m) => Number(m.id) - FIRST)).toEqual([15, 16, 17, 18, 19]);
    expect(h.counters.dropped.gap).toBe(11);
  });

  test("an id from an earlier run of the agent: gap with lost unknown, then the whole backlog", async () => {
    const h = hub(5);
    h.publish(doc("oom", 0));
    const messages = await drain(h.subscribe({}, String(FIRST - 500)));
    expect(dataOf(messages[0]!).data).toMatchObject({ lost: null, reason: "agent_restarted" });
    expect(messages.length).toBe(2);
  });

  test("an id from an earlier run after this run's first events left the backlog: those are counted as gap", async () => {
    const h = hub(5);
    for (let i = 0; i < 8; i++) h.publish(doc("oom", i));
    const messages = await drain(h.subscribe({}, String(FIRST - 500)));
    expect(dataOf(messages[0]!).data).toMatchObject({ next_event_id: FIRST + 3, lost: null, reason: "agent_restarted" });
    expect(messages.slice(1).map((m) => Number(m.id) - FIRST)).toEqual([3, 4, 5, 6, 7]);
    expect(h.counters.dropped.gap).toBe(3);
  });

  test("a stalled client's loss is counted once, under the reason that first lost it, across its reconnects", async () => {
    const h = hub(20, 5);
    const first = h.subscribe({});
    h.publish(doc("oom", 0));
    expect((await drain(first)).length).toBe(1); // the client got FIRST, then stops reading
    for (let i = 1; i <= 10; i++) h.publish(doc("oom", i)); // queued: one batch
    await nextTurn();
    for (let i = 11; i <= 20; i++) h.publish(doc("oom", i)); // dropped: the batch before is still unread
    h.unsubscribe(first);
    expect(h.counters.dropped).toEqual({ slow_client: 10, disconnected: 10, gap: 0 });
    for (let i = 21; i <= 50; i++) h.publish(doc("oom", i));

    // It resumes from the last id it got: the notice tells it all 30 it missed that the backlog no longer holds,
    // the counter adds only the 10 published after its first connection ended.
    const second = h.subscribe({}, String(FIRST));
    const messages = await drain(second);
    expect(dataOf(messages[0]!).data).toMatchObject({ last_event_id: FIRST, next_event_id: FIRST + 31, lost: 30 });
    expect(messages.slice(1).map((m) => Number(m.id) - FIRST)).toEqual(Array.from({ length: 20 }, (_, i) => 31 + i));
    expect(h.counters.dropped).toEqual({ slow_client: 10, disconnected: 10, gap: 10 });
    expect(lost(h)).toBe(30);
    expect(h.counters.delivered).toBe(21);
  });

  test("events replayed to a resumed client that leaves again are not counted a second time", async () => {
    const h = hub(100, 5);
    const first = h.subscribe({});
    h.publish(doc("oom", 0));
    await drain(first);
    for (let i = 1; i <= 10; i++) h.publish(doc("oom", i));
    await nextTurn();
    for (let i = 11; i <= 20; i++) h.publish(doc("oom", i));
    h.unsubscribe(first);
    expect(lost(h)).toBe(20);

    // Resumes, gets the 20 back as replay, but leaves before taking them, with 3 live events queued as well.
    const second = h.subscribe({}, String(FIRST));
    for (let i = 21; i <= 23; i++) h.publish(doc("oom", i));
    h.unsubscribe(second);
    expect(h.counters.dropped).toEqual({ slow_client: 10, disconnected: 13, gap: 0 });

    // A third connection from the same place takes them all: nothing more is counted lost.
    const third = h.subscribe({}, String(FIRST));
    expect((await drain(third)).map((m) => Number(m.id) - FIRST)).toEqual(Array.from({ length: 23 }, (_, i) => i + 1));
    expect(lost(h)).toBe(23);
  });

  test("a resume with other filters, or from an id no ended connection delivered, is a new client", async () => {
    const h = hub(5, 5);
    const first = h.subscribe(filter({ tracer_name: "oom" }));
    h.publish(doc("oom", 0));
    await drain(first);
    h.publish(doc("oom", 1));
    h.unsubscribe(first);
    expect(h.counters.dropped.disconnected).toBe(1);
    for (let i = 2; i < 10; i++) h.publish(doc("oom", i));
    // Events FIRST+1 .. FIRST+4 left the backlog: counted again, as this is not the connection that counted them.
    await drain(h.subscribe(filter({ tracer_name: "dropwatch" }), String(FIRST)));
    expect(h.counters.dropped.gap).toBe(4);
    // Same filters, but FIRST+1 was never delivered by the ended connection: not its continuation either.
    await drain(h.subscribe(filter({ tracer_name: "oom" }), String(FIRST + 1)));
    expect(h.counters.dropped.gap).toBe(4 + 3);
    // The ended connection's own client: FIRST+1 was counted when it left, FIRST+2 .. FIRST+4 are new.
    await drain(h.subscribe(filter({ tracer_name: "oom" }), String(FIRST)));
    expect(h.counters.dropped.gap).toBe(4 + 3 + 3);
  });

  test("a malformed Last-Event-ID is ignored", async () => {
    const h = hub();
    h.publish(doc("oom", 0));
    expect(await drain(h.subscribe({}, "abc"))).toEqual([]);
  });

  test("keepalive: pings while the client reads; after three idle-and-unread ticks it asks to close", async () => {
    const h = hub();
    const sub = h.subscribe({});
    expect(await sub.next()).toBe(": ping\n"); // at once: the client sees the stream open
    const waiting = sub.next();
    expect(sub.keepAlive()).toBe(true);
    expect(await waiting).toBe(": ping\n");
    // The client stops pulling: nothing is taken between ticks.
    expect([sub.keepAlive(), sub.keepAlive(), sub.keepAlive()]).toEqual([true, true, false]);
    h.unsubscribe(sub);
    expect(h.clients()).toBe(0);
    expect(await sub.next()).toBeUndefined();
  });
});

describe("parseWatchRequest", () => {
  test("accepts an empty body, {}, and the seed's filters", () => {
    expect(parseWatchRequest(undefined)).toEqual({ ok: true, value: {} });
    expect(parseWatchRequest({})).toEqual({ ok: true, value: {} });
    const parsed = parseWatchRequest({ filters: { hostname: "^node-1$", tracer_name: "netdev|dropwatch" } });
    expect(parsed.ok && Object.keys(parsed.value)).toEqual(["hostname", "tracer_name"]);
  });

  test("rejects bad regexes, unknown fields, non-strings and overlong patterns with a one-line reason", () => {
    const error = (body: unknown) => {
      const r = parseWatchRequest(body);
      return r.ok ? "" : r.error;
    };
    expect(error({ filters: { tracer_name: "(oom" } })).toMatch(/^filters\.tracer_name: invalid regular expression/);
    expect(error({ filters: { tracer: "oom" } })).toMatch(/^unknown filter "tracer"; known: tracer_name/);
    expect(error({ filters: { region: 1 } })).toBe("filters.region must be a string (a regular expression)");
    expect(error({ filters: { region: "a".repeat(257) } })).toBe("filters.region is 257 characters; at most 256");
    expect(error({ filter: {} })).toMatch(/^unknown field "filter"/);
    expect(error([])).toBe("request body must be a JSON object");
  });
});
