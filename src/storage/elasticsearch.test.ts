// The _bulk writer against a fake Elasticsearch on 127.0.0.1: down, slow, 429, partial item failures, failover,
// a bounded backlog and catch-up, with exact counters.
import { afterEach, describe, expect, test } from "bun:test";
import type { Server } from "bun";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ElasticsearchStore, type ElasticsearchOptions } from "./elasticsearch";
import { makeDoc, MemoryLogger } from "./testing";

type Reply = (ids: string[]) => Response | Promise<Response>;

interface FakeEs {
  server: Server<undefined>;
  url: string;
  requests: Array<{ ids: string[]; auth: string | null; type: string | null; actions: unknown[] }>;
  reply: Reply;
}

const servers: Array<Server<undefined>> = [];
const stores: ElasticsearchStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close(100)));
  for (const s of servers.splice(0)) s.stop(true);
});

const ok: Reply = (ids) => Response.json({ errors: false, items: ids.map((_id) => ({ index: { _id, status: 201 } })) });

function fakeEs(port = 0, reply: Reply = ok): FakeEs {
  const fake = { requests: [], reply } as unknown as FakeEs;
  fake.server = Bun.serve({
    hostname: "127.0.0.1",
    port,
    async fetch(req) {
      const actions = actionsOf(await req.text());
      const ids = actions.map((a) => a.index._id);
      fake.requests.push({ ids, auth: req.headers.get("authorization"), type: req.headers.get("content-type"), actions });
      return fake.reply(ids);
    },
  });
  fake.url = `http://127.0.0.1:${fake.server.port}`;
  servers.push(fake.server);
  return fake;
}

/** The action lines of an NDJSON bulk body. */
function actionsOf(body: string): Array<{ index: { _index: string; _id: string } }> {
  const lines = body.split("\n").filter(Boolean);
  return lines.filter((_, i) => i % 2 === 0).map((l) => JSON.parse(l));
}

/** A port nothing listens on (connection refused). */
function closedPort(): number {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

function newStore(addresses: string[], extra: Partial<ElasticsearchOptions> = {}) {
  const log = new MemoryLogger();
  const store = new ElasticsearchStore({
    addresses,
    index: "huatuo_bamai",
    username: "elastic",
    password: "123456",
    bulkBytes: 1 << 20,
    flushIntervalMs: 20,
    maxBacklogBytes: 1 << 20,
    insecureSkipVerify: false,
    log,
    backoffInitialMs: 10,
    backoffMaxMs: 50,
    ...extra,
  });
  stores.push(store);
  return { store, log };
}

/** Fixed-size documents: the bulk entry of each has the same byte length. */
function putDocs(store: ElasticsearchStore, count: number, from = 0): string[] {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const doc = makeDoc("oom", 100_000 + from + i);
    store.put(doc, JSON.stringify(doc));
    ids.push(doc.tracer_id);
  }
  return ids;
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(5);
  }
}

describe("ElasticsearchStore", () => {
  test("bulk index with _id = tracer_id, basic auth, NDJSON, batches by size", async () => {
    const es = fakeEs();
    const { store } = newStore([es.url], { bulkBytes: 3000 });
    const ids = putDocs(store, 25);
    await until(() => store.counts.stored === 25);
    expect(es.requests.length).toBeGreaterThan(2);
    expect(es.requests.flatMap((r) => r.ids)).toEqual(ids);
    expect(es.requests[0]!.actions[0]).toEqual({ index: { _index: "huatuo_bamai", _id: ids[0] } });
    expect(es.requests[0]!.auth).toBe(`Basic ${btoa("elastic:123456")}`);
    expect(es.requests[0]!.type).toBe("application/x-ndjson");
    expect(store.counts).toEqual({ stored: 25, retried: 0, dropped: 0, rejected: 0 });
    expect(store.backlog()).toBe(0);
  });

  test("a small batch waits for the flush interval, then goes out alone", async () => {
    const es = fakeEs();
    const { store } = newStore([es.url], { flushIntervalMs: 200 });
    putDocs(store, 3);
    await Bun.sleep(100);
    expect(es.requests.length).toBe(0);
    await until(() => store.counts.stored === 3);
    expect(es.requests.length).toBe(1);
  });

  test("down at start: the backlog is bounded, drops are exact, it catches up when the cluster comes", async () => {
    const port = closedPort();
    const probe = newStore([`http://127.0.0.1:${port}`]);
    putDocs(probe.store, 1);
    const entryBytes = probe.store.heldBytes();
    await probe.store.close(0);
    const capacity = 40;
    const { store, log } = newStore([`http://127.0.0.1:${port}`], { maxBacklogBytes: entryBytes * capacity + 10 });
    const ids = putDocs(store, 100);
    expect(store.counts.dropped).toBe(60);
    expect(store.backlog()).toBe(40);
    expect(store.heldBytes()).toBeLessThanOrEqual(entryBytes * capacity + 10);
    await until(() => store.counts.retried >= 80);
    expect(log.lines.map((l) => l.msg)).toEqual([
      "elasticsearch backlog full, dropping new documents (they stay in the local files)",
      "elasticsearch unavailable, holding documents in memory",
    ]);

    const es = fakeEs(port);
    await until(() => store.counts.stored === 40);
    expect(new Set(es.requests.flatMap((r) => r.ids))).toEqual(new Set(ids.slice(0, 40)));
    expect(store.counts.dropped).toBe(60);
    expect(store.backlog()).toBe(0);
    expect(log.lines.at(-1)!.msg).toBe("elasticsearch available again, catching up");
    // Room again: new documents are accepted.
    putDocs(store, 5, 1000);
    await until(() => store.counts.stored === 45);
  });

  test("429 and 503 are retried with backoff until accepted; retried counts each resend", async () => {
    let calls = 0;
    const es = fakeEs(0, (ids) => (++calls <= 2 ? new Response("busy", { status: calls === 1 ? 429 : 503 }) : ok(ids)));
    const { store } = newStore([es.url]);
    putDocs(store, 5);
    await until(() => store.counts.stored === 5);
    expect(store.counts).toEqual({ stored: 5, retried: 10, dropped: 0, rejected: 0 });
    expect(es.requests.map((r) => r.ids.length)).toEqual([5, 5, 5]);
  });

  test("partial item failures: retryable items are resent alone, permanent ones are rejected", async () => {
    const statuses = [201, 429, 400, 201, 503];
    let first = true;
    const es = fakeEs(0, (ids) => {
      if (!first) return ok(ids);
      first = false;
      const items = ids.map((_id, i) => ({
        index: { _id, status: statuses[i], ...(statuses[i]! >= 300 && { error: { type: "t", reason: "r" } }) },
      }));
      return Response.json({ errors: true, items });
    });
    const { store, log } = newStore([es.url]);
    const ids = putDocs(store, 5);
    await until(() => store.counts.stored === 4);
    expect(store.counts).toEqual({ stored: 4, retried: 2, dropped: 0, rejected: 1 });
    expect(es.requests[1]!.ids).toEqual([ids[1], ids[4]]);
    expect(log.lines).toEqual([
      { level: "error", msg: "elasticsearch rejected documents", fields: { count: 1, reason: "t: r" } },
    ]);
  });

  test("a 400 for the whole request is not retried", async () => {
    const es = fakeEs(0, () => new Response("bad", { status: 400 }));
    const { store } = newStore([es.url]);
    putDocs(store, 3);
    await until(() => store.counts.rejected === 3);
    expect(es.requests.length).toBe(1);
  });

  test("slow cluster: requests time out and are retried; put never waits", async () => {
    let slow = true;
    const es = fakeEs(0, async (ids) => {
      if (slow) await Bun.sleep(1000);
      return ok(ids);
    });
    const { store } = newStore([es.url], { requestTimeoutMs: 100 });
    const started = performance.now();
    putDocs(store, 1000);
    expect(performance.now() - started).toBeLessThan(500);
    await until(() => store.counts.retried > 0);
    slow = false;
    await until(() => store.counts.stored === 1000);
    expect(store.counts.dropped).toBe(0);
  });

  test("fails over to the next address", async () => {
    const es = fakeEs();
    const { store } = newStore([`http://127.0.0.1:${closedPort()}`, es.url]);
    for (let i = 0; i < 4; i++) {
      putDocs(store, 2, i * 10);
      await until(() => store.counts.stored === 2 * (i + 1));
    }
    expect(es.requests.length).toBe(4);
    expect(store.counts.dropped).toBe(0);
  });

  test("https with a self-signed certificate, as the user guide's OpenSearch example", async () => {
    const dir = mkdtempSync(join(tmpdir(), "huatuo-tls-"));
    const [key, cert] = [join(dir, "key.pem"), join(dir, "cert.pem")];
    const args = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"];
    execFileSync("openssl", [...args, "-keyout", key, "-out", cert], { stdio: "ignore" });
    const server = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      tls: { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") },
      fetch: async (req) => ok(actionsOf(await req.text()).map((a) => a.index._id)),
    });
    servers.push(server);
    const url = `https://127.0.0.1:${server.port}`;
    const strict = newStore([url]);
    putDocs(strict.store, 2);
    const lax = newStore([url], { insecureSkipVerify: true });
    putDocs(lax.store, 2);
    await until(() => lax.store.counts.stored === 2 && strict.store.counts.retried > 0);
    expect(strict.store.counts.stored).toBe(0);
  });

  test("close sends what is queued, and counts what it could not send as dropped", async () => {
    const es = fakeEs();
    const { store } = newStore([es.url], { flushIntervalMs: 60_000 });
    putDocs(store, 7);
    await store.close(2000);
    expect(store.counts.stored).toBe(7);

    const down = newStore([`http://127.0.0.1:${closedPort()}`]);
    putDocs(down.store, 7);
    await down.store.close(200);
    expect(down.store.counts.dropped).toBe(7);
    expect(down.store.backlog()).toBe(7);
  });
});
