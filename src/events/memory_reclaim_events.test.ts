// memory_reclaim_events: only container processes are reported, attributed through their memory cgroup.
import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { MemoryReclaimEvent } from "../bpf/gen/memory_reclaim_events";
import { testContainer } from "../metrics/testing";
import { MemcgResolver } from "./memcg";
import { ReclaimHandler } from "./memory_reclaim_events";
import { CaptureSink } from "./testing";

const root = mkdtempSync(join(tmpdir(), "huatuo-reclaim-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

test("a container process over the threshold is stored with its container; a host process is not", () => {
  const container = testContainer();
  mkdirSync(join(root, container.cgroupPath), { recursive: true });
  mkdirSync(join(root, "user.slice"));
  const ino = (p: string) => statSync(join(root, p), { bigint: true }).ino;
  const memcg = new MemcgResolver({ list: () => [container] }, { mode: "legacy", v1: new Map([["memory", root]]) });
  const sink = new CaptureSink();
  const handler = new ReclaimHandler(memcg, sink);
  const event: MemoryReclaimEvent = {
    memcg_id: ino(container.cgroupPath), deltatime_ns: 1412702917, window_ns: 999000000, pid: 1896140, tgid: 1896137,
    calls: 31, scope: 1, comm: "java",
  };
  handler.handle(event);
  handler.handle({ ...event, memcg_id: ino("user.slice"), pid: 1, tgid: 1 });
  expect(sink.inputs).toHaveLength(1);
  expect(sink.inputs[0]!.tracerName).toBe("memory_reclaim_events");
  expect(sink.inputs[0]!.container?.id).toBe(container.id);
  expect(sink.data[0]).toEqual({
    pid: 1896137, tid: 1896140, comm: "java", deltatime: 1412702917, reclaim_calls: 31, window_ns: 999000000,
    reclaim_scope: "memcg", memcg: `/${container.cgroupPath}`,
  });
});
