// Container task counts: the /proc/<tid>/stat state field and the R/D counts of the task-state path; the choice of
// source; then both sources on a real cgroup v1 group holding a busy loop (R), a read stuck behind a blkio throttle
// (a plain uninterruptible sleep) and a frozen task (D in /proc, which cgroupstats does not count).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync, type Subprocess } from "bun";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { detectRealLayout, layoutFromMountinfo } from "../pod/cgroup";
import { CgroupFs } from "../pod/cgroup_reader";
import type { Container } from "../pod/types";
import { chooseTaskCountSource, countStates, readContainersTasks, statState, type TaskCountSource } from "./loadavg_container";

describe("task states", () => {
  test("the state follows the last ')' even when comm holds spaces and parentheses", () => {
    expect(statState("1234 (sleep) S 1 1234 1234 0 -1")).toBe("S");
    expect(statState("77 (a) b) (c) D 1 77")).toBe("D");
    expect(statState("9 (kworker/0:1-events) I 2 0")).toBe("I");
  });

  test("R counts as running, D as uninterruptible, everything else as neither", () => {
    expect(countStates(["R", "R", "D", "S", "I", "Z", "T"])).toEqual({ nrRunning: 2, nrUninterruptible: 1 });
    expect(countStates([])).toEqual({ nrRunning: 0, nrUninterruptible: 0 });
  });
});

describe("chooseTaskCountSource", () => {
  test("a v1 layout under a procfs prefix that is no cgroup mount (a fixture tree): task states", async () => {
    const hybrid = "32 31 0:29 / /sys/fs/cgroup/cpu rw,nosuid - cgroup cgroup rw,cpu";
    const source = await chooseTaskCountSource(new CgroupFs(layoutFromMountinfo(hybrid, (p) => `${import.meta.dir}${p}`)));
    expect(source.kind).toBe("task-states");
    if (source.kind === "task-states") expect(source.reason).toContain("not a cgroup v1 mount");
  });

  test("a unified layout: task states, cgroupstats knows only v1", async () => {
    const unified = "32 22 0:27 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate";
    const source = await chooseTaskCountSource(new CgroupFs(layoutFromMountinfo(unified)));
    expect(source).toEqual({ kind: "task-states", reason: "cgroupstats serves only cgroup v1 and the cpu directories are on cgroup2" });
  });
});

const layout = detectRealLayout();
const CPU = layout.v1.get("cpu");
const BLKIO = layout.v1.get("blkio");
const FREEZER = layout.v1.get("freezer");
const fs = new CgroupFs(layout);
const source = await chooseTaskCountSource(fs);
const onV1 = process.getuid?.() === 0 && source.kind === "cgroupstats" && CPU !== undefined && FREEZER !== undefined;

function container(cgroupPath: string): Container {
  return { id: cgroupPath, name: "app", type: "normal", cgroupPath } as Container;
}

const stateOf = (pid: number) => statState(readFileSync(`/proc/${pid}/stat`, "utf8"));

async function until(what: string, ok: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !ok(); i++) await Bun.sleep(50);
  if (!ok()) throw new Error(`timed out waiting for ${what}`);
}

describe.skipIf(!onV1)("against the running kernel (cgroup v1)", () => {
  const name = `hb-loadavg-${process.pid}`;
  const dirs = [CPU, BLKIO, FREEZER].filter((d) => d !== undefined).map((root) => join(root, name));
  const procs: Subprocess[] = [];
  let loop = "";
  /** The throttle to lift afterwards (`<file>`, `<major:minor>`), so the read finishes and the loop device detaches. */
  let throttle: [string, string] | undefined;

  const join1 = (root: string | undefined, pid: number) => root && writeFileSync(join(root, name, "tasks"), String(pid));

  beforeAll(async () => {
    for (const d of dirs) mkdirSync(d);
    // A shell loop of builtins makes no system calls: always R.
    const busy = spawn(["sh", "-c", "while :; do :; done"], { stdio: ["ignore", "ignore", "ignore"] });
    procs.push(busy);
    join1(CPU, busy.pid);
    const sleeper = spawn(["sleep", "60"], { stdio: ["ignore", "ignore", "ignore"] });
    procs.push(sleeper);
    join1(CPU, sleeper.pid);
    join1(FREEZER, sleeper.pid);
    writeFileSync(join(FREEZER!, name, "freezer.state"), "FROZEN");
    await until("the freezer", () => readFileSync(join(FREEZER!, name, "freezer.state"), "utf8").trim() === "FROZEN");
    // An O_DIRECT read of a loop device throttled to 4 KiB/s waits for its 1 MiB in TASK_UNINTERRUPTIBLE.
    const img = `/tmp/${name}.img`;
    writeFileSync(img, new Uint8Array(1 << 20));
    const attach = spawnSync(["losetup", "--find", "--show", img]);
    loop = attach.stdout.toString().trim();
    if (BLKIO && attach.exitCode === 0 && loop !== "") {
      const majMin = spawnSync(["lsblk", "-dno", "MAJ:MIN", loop]).stdout.toString().trim();
      throttle = [join(BLKIO, name, "blkio.throttle.read_bps_device"), majMin];
      writeFileSync(throttle[0], `${majMin} 4096`);
      const enter = `echo $$ > ${join(BLKIO, name, "tasks")}; echo $$ > ${join(CPU!, name, "tasks")}`;
      const reader = spawn(["sh", "-c", `${enter}; exec dd if=${loop} of=/dev/null bs=1M count=1 iflag=direct`], { stdio: ["ignore", "ignore", "ignore"] });
      procs.push(reader);
      await until("the throttled read", () => stateOf(reader.pid) === "D" && readFileSync(`/proc/${reader.pid}/comm`, "utf8").trim() === "dd");
    }
    await until("the busy loop and the frozen sleep", () => stateOf(busy.pid) === "R" && stateOf(sleeper.pid) === "D");
  });

  afterAll(async () => {
    if (throttle) writeFileSync(throttle[0], `${throttle[1]} 0`);
    if (FREEZER && existsSync(join(FREEZER, name))) writeFileSync(join(FREEZER, name, "freezer.state"), "THAWED");
    for (const p of procs) p.kill("SIGKILL");
    await Promise.all(procs.map((p) => p.exited));
    if (loop) spawnSync(["losetup", "-d", loop]);
    spawnSync(["rm", "-f", `/tmp/${name}.img`]);
    for (const d of dirs.reverse()) if (existsSync(d)) rmdirSync(d);
  });

  test("cgroupstats and task states agree on R and on plain D; frozen tasks are D only in /proc", async () => {
    const counts = async (s: TaskCountSource) => (await readContainersTasks(s, fs, [container(name)]))[0]?.[1];
    const plainD = throttle ? 1 : 0;
    expect(await counts(source)).toEqual({ nrRunning: 1, nrUninterruptible: plainD });
    expect(await counts({ kind: "task-states", reason: "test" })).toEqual({ nrRunning: 1, nrUninterruptible: plainD + 1 });
  });

  test("a container whose cgroup is gone is left out, and no fd stays open", async () => {
    const fdsBefore = readdirSync("/proc/self/fd").length;
    const got = await readContainersTasks(source, fs, [container(`${name}-gone`), container(name)]);
    expect(got.map(([c]) => c.cgroupPath)).toEqual([name]);
    expect(readdirSync("/proc/self/fd").length).toBe(fdsBefore);
  });
});
