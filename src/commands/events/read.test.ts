// Reading local storage back, and the flag parsing and one-line summaries `events list` and `tail` share.
import { afterAll, describe, expect, test } from "bun:test";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalFileStore } from "../../storage/local_file";
import { DocumentSink } from "../../storage/sink";
import { MemoryLogger } from "../../storage/testing";
import { UsageError } from "../run";
import { makeChalk, renderLine } from "./format";
import { parseQuery } from "./query";
import { findDocument, listDocuments } from "./read";
import { summarize } from "./summary";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const NOW = Date.UTC(2025, 5, 11, 12, 0, 0);
const minutesAgo = (m: number) => new Date(NOW - m * 60_000);

/** 40 oom and 40 dropwatch events one minute apart, in files small enough to rotate several times. */
async function storage(): Promise<{ dir: string; ids: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "huatuo-read-"));
  dirs.push(dir);
  const store = new LocalFileStore({ dir, rotationBytes: 3000, maxRotation: 100, log: new MemoryLogger() });
  const sink = new DocumentSink({ origin: { hostname: "node-1", region: "dev" }, backends: [store], log: new MemoryLogger() });
  const container = { id: "abc123def456", hostname: "app-pod", namespace: "prod", qos: "burstable", type: "normal" } as never;
  const ids: string[] = [];
  for (let i = 0; i < 40; i++) {
    ids.push(sink.save({ tracerName: "oom", time: minutesAgo(80 - 2 * i), data: { victim_pid: i }, container: i % 4 ? undefined : container }).tracer_id);
    ids.push(sink.save({ tracerName: "dropwatch", time: minutesAgo(79 - 2 * i), data: { n: i } }).tracer_id);
  }
  await sink.close(1000);
  return { dir, ids };
}

describe("listDocuments", () => {
  test("every tracer, rotated files included, oldest first", async () => {
    const { dir, ids } = await storage();
    const { docs, malformed } = await listDocuments(dir, {});
    expect(docs.map((d) => d.tracer_id)).toEqual(ids);
    expect(malformed).toBe(0);
  });

  test("filters combine; the limit keeps the newest", async () => {
    const { dir } = await storage();
    const oom = parseQuery({ tracer: "^oom$", since: "2025-06-11T11:00:00Z", limit: "3" }, NOW);
    expect((await listDocuments(dir, oom)).docs.map((d) => d.tracer_data.victim_pid)).toEqual([37, 38, 39]);
    const recent = parseQuery({ since: "10m" }, NOW);
    expect((await listDocuments(dir, recent)).docs.length).toBe(10);
    const inContainer = parseQuery({ container: "app-pod", namespace: "^prod$", until: "60m" }, NOW);
    expect((await listDocuments(dir, inContainer)).docs.map((d) => d.tracer_data.victim_pid)).toEqual([0, 4, 8]);
  });

  test("a line that is not a document is counted and skipped", async () => {
    const { dir } = await storage();
    appendFileSync(join(dir, "oom"), "{torn\n");
    const { docs, malformed } = await listDocuments(dir, parseQuery({ tracer: "oom" }, NOW));
    expect([docs.length, malformed]).toEqual([40, 1]);
  });

  test("findDocument by tracer_id, in a rotated file too", async () => {
    const { dir, ids } = await storage();
    expect((await findDocument(dir, ids[0]!))?.tracer_data).toEqual({ victim_pid: 0 });
    expect(await findDocument(dir, "0123456789abcdef0123")).toBeUndefined();
  });
});

describe("parseQuery", () => {
  test("relative and absolute times", () => {
    expect(parseQuery({ since: "2h" }, NOW).since).toBe(NOW - 7_200_000);
    expect(parseQuery({ until: "2025-06-11T16:00:00+08:00" }, NOW).until).toBe(Date.UTC(2025, 5, 11, 8));
  });

  test("bad values are usage errors naming the flag", () => {
    expect(() => parseQuery({ since: "yesterday" })).toThrow(UsageError);
    expect(() => parseQuery({ limit: "-1" })).toThrow("--limit: want a positive integer");
    expect(() => parseQuery({ tracer: "[" })).toThrow("--tracer: invalid regular expression");
  });
});

describe("summaries", () => {
  test("the key fields of the seed's samples", () => {
    expect(summarize("oom", { victim_process_name: "java", victim_pid: 3218745, trigger_process_name: "java", trigger_pid: 3218804 })).toBe(
      "victim=java(3218745) trigger=java(3218804)",
    );
    const drop = { type: "common_drop", comm: "kubelet", pid: 1, saddr: "10.0.0.1", sport: 8080, daddr: "10.0.0.2", dport: 49000, sk_state: "ESTABLISHED" };
    expect(summarize("dropwatch", drop)).toBe("type=common_drop 10.0.0.1:8080 > 10.0.0.2:49000 state=ESTABLISHED kubelet(1)");
    expect(summarize("dropwatch", { ...drop, drop_reason: "NO_SOCKET" })).toBe(
      "type=common_drop reason=NO_SOCKET 10.0.0.1:8080 > 10.0.0.2:49000 state=ESTABLISHED kubelet(1)",
    );
    expect(summarize("softirq_tracing", { comm: "agent", pid: 5, cpu: 1, offtime: 237328905 })).toBe("agent(5) cpu=1 offtime=237.3ms");
    expect(summarize("cpusys", { pid: 1, flamedata: [{}], reason: "sys high" })).toBe('pid=1 reason="sys high"');
  });

  test("no colour codes without a terminal or with NO_COLOR", () => {
    const doc = { tracer_time: "2025-06-11 16:05:16.251 +0800", tracer_name: "oom", hostname: "n", tracer_data: {} } as never;
    expect(renderLine(doc, makeChalk({ isTTY: false }, {}))).not.toContain("\x1b[");
    expect(renderLine(doc, makeChalk({ isTTY: true }, { NO_COLOR: "1" }))).not.toContain("\x1b[");
    expect(renderLine(doc, makeChalk({ isTTY: true }, {}))).toContain("\x1b[");
  });
});
