// The fan-out: every document to every backend and the hub, independently; exact u64 numbers; no storage still streams.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WatchHub } from "../watch/hub";
import { SseParser } from "../watch/sse_parser";
import { zeroCounts, type StorageBackend } from "./backend";
import type { Document } from "./document";
import { LocalFileStore } from "./local_file";
import { DocumentSink } from "./sink";
import { MemoryLogger } from "./testing";

function recorder(name: string, fail = false): StorageBackend & { docs: Document[]; lines: string[] } {
  return {
    name,
    counts: zeroCounts(),
    docs: [],
    lines: [],
    put(doc, line) {
      if (fail) throw new Error("broken");
      this.docs.push(doc);
      this.lines.push(line);
    },
    backlog: () => 0,
    close: async () => {},
  };
}

const origin = { hostname: "node-1", region: "dev" };

describe("DocumentSink", () => {
  test("one document, the same to every backend and the hub; a throwing backend loses only its copy", async () => {
    const a = recorder("a");
    const broken = recorder("broken", true);
    const hub = new WatchHub({ hostname: "node-1", backlogSize: 10, clientQueueSize: 10 });
    const sub = hub.subscribe({});
    const saved: string[] = [];
    const sink = new DocumentSink({ origin, backends: [broken, a], publisher: hub, log: new MemoryLogger(), onSaved: (n) => saved.push(n) });
    const doc = sink.save({ tracerName: "oom", data: { victim_pid: 1 } });
    expect(a.docs).toEqual([doc]);
    expect(JSON.parse(a.lines[0]!)).toEqual(doc);
    expect(broken.counts.dropped).toBe(1);
    expect(saved).toEqual(["oom"]);
    const [message] = new SseParser().push((await sub.next())!);
    expect(JSON.parse(message!.data).data.tracer_id).toBe(doc.tracer_id);
  });

  test("with no backends (--disable-storage) events still reach watchers", async () => {
    const hub = new WatchHub({ hostname: "node-1", backlogSize: 10, clientQueueSize: 10 });
    const sub = hub.subscribe({});
    new DocumentSink({ origin, backends: [], publisher: hub, log: new MemoryLogger() }).save({ tracerName: "oom", data: {} });
    expect(new SseParser().push((await sub.next())!).length).toBe(1);
  });

  test("a u64 from a BPF record keeps every digit in the file and in the stream", async () => {
    const dir = mkdtempSync(join(tmpdir(), "huatuo-sink-"));
    const local = new LocalFileStore({ dir, rotationBytes: 1 << 20, maxRotation: 2, log: new MemoryLogger() });
    const hub = new WatchHub({ hostname: "node-1", backlogSize: 10, clientQueueSize: 10 });
    const sub = hub.subscribe({});
    const sink = new DocumentSink({ origin, backends: [local], publisher: hub, log: new MemoryLogger() });
    sink.save({ tracerName: "ras", data: { banks_msr_status: 9295429630892703744n } });
    await sink.close(1000);
    expect(readFileSync(join(dir, "ras"), "utf8")).toContain('"banks_msr_status":9295429630892703744}');
    expect(await sub.next()).toContain('"banks_msr_status":9295429630892703744}');
  });

  test("data JSON cannot hold is logged and counted, and the tracer goes on", () => {
    const a = recorder("a");
    const log = new MemoryLogger();
    const sink = new DocumentSink({ origin, backends: [a], log });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => sink.save({ tracerName: "oom", data: cyclic })).not.toThrow();
    expect(a.counts.dropped).toBe(1);
    expect(log.lines[0]!.msg).toBe("event not stored: its data cannot be encoded as JSON");
  });
});
