// `huatuo-bamai events` from the built binary: list/dump/show over files written by the real LocalFile writer, and
// tail against the real watch route (hub + POST /v1/events/watch) served from this test, through a restart.
import { afterAll, describe, expect, test } from "bun:test";
import { spawn } from "bun";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { MemoryLogger } from "../src/storage/testing";
import { HttpServer } from "../src/server/http";
import { createSelfMetrics } from "../src/server/self_metrics";
import { registerWatchRoute } from "../src/server/watch";
import { LocalFileStore } from "../src/storage/local_file";
import { DocumentSink } from "../src/storage/sink";
import { WatchHub } from "../src/watch/hub";
import { BINARY, freePort, runBinary, workDir } from "./support/daemon";

const container = { id: "0123456789abcdef", hostname: "app-pod", namespace: "prod", qos: "burstable", type: "normal" } as never;
const origin = { hostname: "node-1", region: "dev" };

/** 30 oom and 30 dropwatch events, a minute apart, in files small enough to rotate. */
async function storage(): Promise<{ dir: string; ids: string[] }> {
  const dir = join(workDir(), "huatuo-local");
  const store = new LocalFileStore({ dir, rotationBytes: 4000, maxRotation: 50, log: new MemoryLogger() });
  const sink = new DocumentSink({ origin, backends: [store], log: new MemoryLogger() });
  const ids: string[] = [];
  for (let i = 0; i < 30; i++) {
    const time = new Date(Date.now() - (60 - 2 * i) * 60_000);
    const victim = { victim_process_name: "java", victim_pid: 100 + i, trigger_process_name: "java", trigger_pid: 7 };
    ids.push(sink.save({ tracerName: "oom", time, data: victim, container: i % 3 ? undefined : container }).tracer_id);
    ids.push(sink.save({ tracerName: "dropwatch", time: new Date(time.getTime() + 1000), data: { type: "syn_flood" } }).tracer_id);
  }
  await sink.close(2000);
  return { dir, ids };
}

function expectUsageError(r: { code: number; stderr: string }, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stderr.trim().split("\n")[0]).toMatch(pattern);
  expect(r.stderr).not.toMatch(/^\s+at /m);
}

describe("events list / dump / show", async () => {
  const { dir, ids } = await storage();

  test("--json: every stored document, rotated files included, oldest first, one per line", async () => {
    const r = await runBinary(["events", "list", "--path", dir, "--json"]);
    expect(r.code).toBe(0);
    const docs = r.stdout.trim().split("\n").map((l) => JSON.parse(l));
    expect(docs.map((d) => d.tracer_id)).toEqual(ids);
    expect(docs[0]).toMatchObject({ hostname: "node-1", region: "dev", tracer_name: "oom", tracer_type: "event" });
  });

  test("table without a terminal: no colour codes, the key fields", async () => {
    const r = await runBinary(["events", "dump", "--path", dir, "--tracer", "^oom$", "--limit", "2"]);
    expect(r.code).toBe(0);
    expect(r.stdout).not.toContain("\x1b[");
    const rows = r.stdout.split("\n").filter((l) => l.includes("victim="));
    expect(rows.length).toBe(2);
    expect(rows[1]).toContain("victim=java(129) trigger=java(7)");
    expect(r.stdout).toMatch(/TIME +│ TRACER +│ TRACER_ID +│ CONTAINER +│ SUMMARY/);
  });

  test("filters: --container, --since, --until", async () => {
    const json = async (...args: string[]) =>
      (await runBinary(["events", "list", "--path", dir, "--output", "json", ...args])).stdout.trim().split("\n").filter(Boolean).map((l) => JSON.parse(l));
    expect((await json("--container", "^app-pod$")).map((d) => d.tracer_data.victim_pid)).toEqual(
      Array.from({ length: 10 }, (_, i) => 100 + 3 * i),
    );
    expect((await json("--since", "11m")).length).toBe(10);
    expect((await json("--tracer", "drop", "--until", "55m")).length).toBe(3);
  });

  test("--config reads Storage.LocalFile.Path", async () => {
    const conf = join(workDir(), "huatuo-bamai.conf");
    writeFileSync(conf, `[Storage.LocalFile]\nPath = "${dir}"\n`);
    const r = await runBinary(["events", "list", "--config", conf, "--json", "--limit", "1"]);
    expect(JSON.parse(r.stdout).tracer_id).toBe(ids.at(-1)!);
  });

  test("show prints the whole record", async () => {
    const r = await runBinary(["events", "show", ids[0]!, "--path", dir]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ tracer_id: ids[0], container_hostname: "app-pod", tracer_data: { victim_pid: 100 } });
    expect(r.stdout).toContain('\n  "tracer_data": {\n');
    const missing = await runBinary(["events", "show", "ffffffffffffffffffff", "--path", dir]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`huatuo-bamai: events show: no event with tracer_id ffffffffffffffffffff in ${dir}\n`);
  });

  test("bad flags and values: one line, exit 2", async () => {
    expectUsageError(await runBinary(["events", "list", "--path", dir, "--since", "yesterday"]), /--since: want a time/);
    expectUsageError(await runBinary(["events", "list", "--path", dir, "--limit", "x"]), /--limit: want a positive integer/);
    expectUsageError(await runBinary(["events", "list", "--path", dir, "--tracer", "("]), /--tracer: invalid regular expression/);
    expectUsageError(await runBinary(["events", "list", "--path", dir, "--output", "yaml"]), /--output: want table or json/);
    expectUsageError(await runBinary(["events", "list", "--trace", "oom"]), /unknown option '--trace'/);
    expectUsageError(await runBinary(["events", "show"]), /missing required argument 'tracer_id'/);
    expectUsageError(await runBinary(["events", "tail", "--server", "localhost"]), /--server: want http/);
  });

  test("no storage directory: exit 1 with a hint", async () => {
    const r = await runBinary(["events", "list", "--path", "/nonexistent/huatuo-local"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/no local event storage at \/nonexistent\/huatuo-local .*--path/);
  });
});

/** The agent's watch endpoint, served from this process on a fixed port so it can be restarted. */
function watchServer(port: number, hub: WatchHub): HttpServer {
  const log = new MemoryLogger();
  const http = new HttpServer({ listenAddress: `127.0.0.1:${port}`, requestsPerSecond: 100, maxBodyBytes: 1 << 20, log, metrics: createSelfMetrics({}) });
  registerWatchRoute(http, { hub, limits: () => ({ maxClients: 5, keepAliveMs: 60_000 }), log });
  http.listen();
  return http;
}

function startTail(args: string[]) {
  const proc = spawn([BINARY, "events", "tail", ...args], { stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const text = { out: "", err: "" };
  void (async () => {
    for await (const chunk of proc.stdout) text.out += new TextDecoder().decode(chunk);
  })();
  void (async () => {
    for await (const chunk of proc.stderr) text.err += new TextDecoder().decode(chunk);
  })();
  return { proc, text };
}

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(20);
  }
}

describe("events tail", () => {
  const servers: HttpServer[] = [];
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  test("one line per matching event; after the agent restarts it resumes with Last-Event-ID; Ctrl-C exits 0", async () => {
    const port = freePort();
    const hub = new WatchHub({ hostname: "node-1", backlogSize: 100, clientQueueSize: 100 });
    const sink = new DocumentSink({ origin, backends: [], publisher: hub, log: new MemoryLogger() });
    let server = watchServer(port, hub);
    servers.push(server);
    const tail = startTail(["--server", `http://127.0.0.1:${port}`, "--tracer", "oom|dropwatch", "--container", "app-pod"]);
    await until(() => hub.clients() === 1);
    sink.save({ tracerName: "oom", container, data: { victim_process_name: "java", victim_pid: 1, trigger_process_name: "sh", trigger_pid: 2 } });
    sink.save({ tracerName: "oom", data: { victim_process_name: "host", victim_pid: 3, trigger_process_name: "sh", trigger_pid: 4 } });
    sink.save({ tracerName: "ras", container, data: { event: "MCE" } });
    await until(() => tail.text.out.includes("victim=java(1)"));
    expect(tail.text.out.trim().split("\n")).toEqual([expect.stringMatching(/ oom +node-1 prod\/app-pod  victim=java\(1\) trigger=sh\(2\)$/)]);
    expect(tail.text.out).not.toContain("\x1b[");

    // The agent goes away; events published meanwhile wait in the backlog of the same hub.
    await server.stop();
    await until(() => tail.text.err.includes("reconnecting"));
    sink.save({ tracerName: "dropwatch", container, data: { type: "while_down" } });
    server = watchServer(port, hub);
    servers.push(server);
    await until(() => tail.text.out.includes("type=while_down"));
    expect(tail.text.err).toMatch(/watching http:\/\/127\.0\.0\.1:\d+\/v1\/events\/watch from id \d+/);

    tail.proc.kill("SIGINT");
    expect(await tail.proc.exited).toBe(0);
  });

  test("a restarted agent with a fresh backlog: the gap is reported on stderr", async () => {
    const port = freePort();
    const first = new WatchHub({ hostname: "node-1", backlogSize: 100, clientQueueSize: 100, firstSeq: 1000 });
    let server = watchServer(port, first);
    const tail = startTail(["--server", `http://127.0.0.1:${port}`]);
    await until(() => first.clients() === 1);
    new DocumentSink({ origin, backends: [], publisher: first, log: new MemoryLogger() }).save({ tracerName: "oom", data: {} });
    await until(() => tail.text.out.includes(" oom "));
    await server.stop();
    const second = new WatchHub({ hostname: "node-1", backlogSize: 100, clientQueueSize: 100, firstSeq: 5000 });
    server = watchServer(port, second);
    servers.push(server);
    await until(() => tail.text.err.includes("missed"));
    expect(tail.text.err).toContain("! missed an unknown number of events while disconnected: the agent restarted");
    tail.proc.kill("SIGTERM");
    expect(await tail.proc.exited).toBe(0);
  });

  test("no agent listening: keeps retrying with backoff until Ctrl-C", async () => {
    const tail = startTail(["--server", `http://127.0.0.1:${freePort()}`]);
    await until(() => tail.text.err.includes("reconnecting in 2s"));
    expect(tail.text.err).toMatch(/cannot connect to http:\/\/127\.0\.0\.1:\d+: .*; reconnecting in 1s/);
    tail.proc.kill("SIGINT");
    expect(await tail.proc.exited).toBe(0);
  });
});
