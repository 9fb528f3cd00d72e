// Local files: JSON lines per tracer, rotation at size with MaxRotation kept, and a real disk-full on a small tmpfs.
import { afterAll, describe, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LocalFileStore } from "./local_file";
import { listRotated } from "./rotate";
import { makeDoc, MemoryLogger } from "./testing";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "huatuo-local-"));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function store(dir: string, extra: Partial<ConstructorParameters<typeof LocalFileStore>[0]> = {}) {
  const log = new MemoryLogger();
  return { log, store: new LocalFileStore({ dir, rotationBytes: 1 << 20, maxRotation: 3, log, ...extra }) };
}

function put(s: LocalFileStore, tracer: string, n: number, pad = 0): void {
  const doc = makeDoc(tracer, n, pad);
  s.put(doc, JSON.stringify(doc));
}

function linesOf(path: string): Array<{ tracer_data: { n: number } }> {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

describe("LocalFileStore", () => {
  test("one compact JSON document per line, one file per tracer, created on first write", async () => {
    const dir = join(tempDir(), "huatuo-local");
    const { store: s } = store(dir);
    for (let i = 0; i < 100; i++) put(s, i % 2 ? "oom" : "dropwatch", i);
    await s.flush();
    expect(readdirSync(dir).sort()).toEqual(["dropwatch", "oom"]);
    const text = readFileSync(join(dir, "oom"), "utf8");
    expect(text.endsWith("}\n")).toBe(true);
    expect(text).not.toContain("\n\t");
    expect(linesOf(join(dir, "oom")).map((d) => d.tracer_data.n)).toEqual(
      Array.from({ length: 50 }, (_, i) => 2 * i + 1),
    );
    expect(s.counts).toEqual({ stored: 100, retried: 0, dropped: 0, rejected: 0 });
    await s.close(1000);
  });

  test("rotates at RotationSize and keeps MaxRotation rotated files, newest records last", async () => {
    const dir = tempDir();
    const { store: s } = store(dir, { rotationBytes: 2000 });
    const total = 200;
    for (let i = 0; i < total; i++) {
      put(s, "oom", i, 100);
      if (i % 7 === 0) await s.flush(); // rotations happen across many batches, not only within one
    }
    await s.close(1000);
    const rotated = listRotated(dir, "oom");
    expect(rotated.length).toBe(3);
    const files = [...rotated, "oom"].map((f) => join(dir, f));
    for (const f of files) expect(statSync(f).size).toBeLessThanOrEqual(2000);
    for (const f of rotated) expect(statSync(join(dir, f)).size).toBeGreaterThan(2000 - 400);
    const kept = files.flatMap(linesOf).map((d) => d.tracer_data.n);
    // What is kept is the newest records, contiguous and in order.
    expect(kept).toEqual(Array.from({ length: kept.length }, (_, i) => total - kept.length + i));
    expect(s.counts.stored).toBe(total);
  });

  test("an existing oversized file is rotated before the first write", async () => {
    const dir = tempDir();
    writeFileSync(join(dir, "oom"), "x".repeat(3000) + "\n");
    const { store: s } = store(dir, { rotationBytes: 2000 });
    put(s, "oom", 1);
    await s.close(1000);
    expect(listRotated(dir, "oom").length).toBe(1);
    expect(linesOf(join(dir, "oom")).length).toBe(1);
  });

  test("a directory that cannot be created: drops are counted and logged once, nothing throws", async () => {
    const file = join(tempDir(), "not-a-dir");
    writeFileSync(file, "");
    const { store: s, log } = store(join(file, "sub"));
    for (let i = 0; i < 10; i++) put(s, "oom", i);
    await s.flush();
    expect(s.counts.dropped).toBe(10);
    expect(log.lines.filter((l) => l.level === "error").length).toBe(1);
    expect(log.lines[0]!.fields.err).toMatch(/ENOTDIR/);
  });
});

describe("disk full", () => {
  const mnt = tempDir();
  execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt]);
  afterAll(() => execFileSync("umount", [mnt]));

  test("nothing lost before ENOSPC, drops counted after, one log line per episode, recovery", async () => {
    writeFileSync(join(mnt, "ballast"), Buffer.alloc(32 * 1024));
    const dir = join(mnt, "huatuo-local");
    const { store: s, log } = store(dir, { syncIntervalMs: 0 });
    let sent = 0;
    while (s.counts.dropped < 20) {
      put(s, "oom", sent++, 200);
      if (sent % 5 === 0) await s.flush();
      if (sent > 2000) throw new Error("the disk never filled");
    }
    await s.flush();
    const onDisk = linesOf(join(dir, "oom")).map((d) => d.tracer_data.n);
    expect(onDisk.length).toBe(s.counts.stored);
    expect(s.counts.stored + s.counts.dropped).toBe(sent);
    // Every document saved before the disk filled is on disk, whole, in order.
    expect(onDisk).toEqual(Array.from({ length: onDisk.length }, (_, i) => i));
    expect(log.lines.map((l) => l.msg)).toEqual(["local file write failed, dropping documents until it recovers"]);
    expect(String(log.lines[0]!.fields.err)).toContain("ENOSPC");

    unlinkSync(join(mnt, "ballast"));
    const storedBefore = s.counts.stored;
    for (let i = 0; i < 10; i++) put(s, "oom", sent++, 200);
    await s.close(1000);
    expect(s.counts.stored).toBe(storedBefore + 10);
    expect(log.lines[1]).toMatchObject({ msg: "local file writes recovered", fields: { dropped: s.counts.dropped } });
    expect(linesOf(join(dir, "oom")).slice(-10).map((d) => d.tracer_data.n)).toEqual(
      Array.from({ length: 10 }, (_, i) => sent - 10 + i),
    );
  });
});
