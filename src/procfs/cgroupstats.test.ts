// The native batch (lib/hb_cgroupstats.c) against the running kernel: a v1 cgroup holding a busy loop, a cgroup that
// is gone, a cgroup2 directory, and a batch longer than one window of requests. Counting against task states is in
// metrics/loadavg_container.test.ts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, type Subprocess } from "bun";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { constants } from "node:os";
import { join } from "node:path";
import { asBuffer, loadNative } from "../bpf/native";
import { CgroupStatsReader, taskstatsFamilyId } from "./cgroupstats";
import { NetlinkError } from "./netlink";

const family = process.getuid?.() === 0 ? taskstatsFamilyId() : undefined;
const V1_CPU = "/sys/fs/cgroup/cpu";
const V2 = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"].find((d) => existsSync(`${d}/cgroup.controllers`));
const onV1 = family !== undefined && existsSync(`${V1_CPU}/tasks`);
const native = onV1 ? await loadNative() : undefined;

describe.skipIf(!onV1)("against the running kernel", () => {
  const busyDir = join(V1_CPU, `hb-cgroupstats-${process.pid}`);
  const goneDir = `${busyDir}-gone`;
  let busy: Subprocess | undefined;
  const reader = () => new CgroupStatsReader(native!, family!);

  beforeAll(async () => {
    mkdirSync(busyDir);
    // A shell loop of builtins makes no system calls: always R.
    busy = spawn(["sh", "-c", "while :; do :; done"], { stdio: ["ignore", "ignore", "ignore"] });
    writeFileSync(join(busyDir, "tasks"), String(busy.pid));
    for (let i = 0; i < 100 && !/\) R /.test(readFileSync(`/proc/${busy.pid}/stat`, "utf8")); i++) await Bun.sleep(20);
    mkdirSync(goneDir);
    rmdirSync(goneDir);
  });

  afterAll(async () => {
    busy?.kill("SIGKILL");
    await busy?.exited;
    for (let i = 0; i < 50 && existsSync(busyDir); i++) {
      try {
        rmdirSync(busyDir);
      } catch {
        await Bun.sleep(20); // EBUSY until the killed task is gone
      }
    }
  });

  test("a v1 cgroup with a busy loop: one task, running", () => {
    const [stats] = reader().readAll([busyDir]);
    expect(stats).toEqual({ nrSleeping: 0, nrRunning: 1, nrStopped: 0, nrUninterruptible: 0, nrIoWait: 0 });
  });

  test("a cgroup that is gone: ENOENT from the native call, undefined from the reader", () => {
    const out = new BigUint64Array(10).fill(7n);
    const errs = new Int32Array(2).fill(-1);
    const rc = native!.api.hb_cgroupstats(family!, Buffer.from(`${goneDir}\0${busyDir}\0`), 2, asBuffer(new Uint8Array(out.buffer)), asBuffer(new Uint8Array(errs.buffer)));
    expect(rc).toBe(2);
    expect([...errs]).toEqual([constants.errno.ENOENT, 0]);
    expect([...out.subarray(0, 5)]).toEqual([0n, 0n, 0n, 0n, 0n]);
    expect(out[6]).toBe(1n);
    expect(reader().readAll([goneDir])).toEqual([undefined]);
  });

  test.skipIf(V2 === undefined)("a cgroup2 directory is refused with EINVAL", () => {
    let caught: unknown;
    try {
      reader().readAll([V2!]);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NetlinkError);
    expect((caught as NetlinkError).errno).toBe(constants.errno.EINVAL);
  });

  test("a batch of many windows keeps its order, and every fd is closed", () => {
    const before = readdirSync("/proc/self/fd").length;
    const paths = Array.from({ length: 100 }, (_, i) => [busyDir, goneDir, V1_CPU][i % 3]!);
    const r = reader();
    for (let round = 0; round < 2; round++) {
      const stats = r.readAll(paths);
      expect(stats.length).toBe(paths.length);
      stats.forEach((s, i) => {
        if (i % 3 === 0) expect(s?.nrRunning).toBe(1);
        if (i % 3 === 1) expect(s).toBeUndefined();
        if (i % 3 === 2) expect(s).toBeDefined();
      });
    }
    expect(r.readAll([])).toEqual([]);
    expect(readdirSync("/proc/self/fd").length).toBe(before);
  });
});
