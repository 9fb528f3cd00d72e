// The embedded CPU profiler against the real kernel: a sys-heavy load (dd from /dev/zero to /dev/null under a name of
// its own) shows up with its kernel function on top, the pid filter keeps only it, and `perf record -g` sampling
// the same load at the same time names the same top functions.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renamedBinary } from "../src/autotracing/testing";
import { captureProfile, type Profile } from "../src/profiler/profile";
import { buildBpf, isRoot, rootOnly } from "./support/bpf_helpers";

const COMM = "hbzero";
const HOT = /^read_(iter_)?zero$/;
let bin: ReturnType<typeof renamedBinary>;

beforeAll(() => {
  buildBpf();
  bin = renamedBinary("/bin/dd", COMM);
});
afterAll(() => bin.remove());

/** The load for at most `seconds` (killed earlier by the test). */
function startLoad(seconds: number) {
  const load = Bun.spawn([bin.path, "if=/dev/zero", "of=/dev/null", "bs=1M"], { stdout: "ignore", stderr: "ignore" });
  setTimeout(() => load.kill(), seconds * 1000).unref();
  return load;
}

/** Samples per leaf function of one process name, most first. */
function selfByFunction(p: Profile, comm: string): Array<[string, number]> {
  const self = new Map<string, number>();
  for (const s of p.stacks.filter((s) => s.comm === comm)) self.set(s.frames.at(-1)!, (self.get(s.frames.at(-1)!) ?? 0) + s.count);
  return [...self].sort((a, b) => b[1] - a[1]);
}

/** Debian ships perf as /usr/bin/perf (a wrapper) or perf_<version>. */
function perfBinary(): string | undefined {
  if (existsSync("/usr/bin/perf") && Bun.spawnSync(["/usr/bin/perf", "--version"]).exitCode === 0) return "/usr/bin/perf";
  const versioned = readdirSync("/usr/bin").filter((f) => /^perf_\d/.test(f)).sort().at(-1);
  return versioned && join("/usr/bin", versioned);
}

/** `perf report` self overhead by kernel symbol for one comm, in percent of that comm's samples, most first. */
function perfTop(perf: string, data: string, comm: string): Array<[string, number]> {
  const report = Bun.spawnSync([perf, "report", "-i", data, "--stdio", "--no-children", "--comm", comm, "--percentage", "relative", "--sort", "sym", "-g", "none"], { stdout: "pipe", stderr: "pipe" });
  return report.stdout
    .toString()
    .split("\n")
    .flatMap((l) => {
      // user symbols are left out: perf names them from debug info its own way (__GI___libc_read for read)
      const m = /^\s+([\d.]+)%\s+\[k\]\s+(\S+)/.exec(l);
      return m ? [[m[2]!, Number(m[1])] as [string, number]] : [];
    });
}

describe.skipIf(!isRoot)(rootOnly("CPU profiler"), () => {
  test("host-wide: the sys-heavy load's kernel function is the hottest frame of its process", async () => {
    const load = startLoad(4);
    await Bun.sleep(200);
    const p = await captureProfile({ durationMs: 2000 });
    load.kill();
    const top = selfByFunction(p, COMM);
    expect(top[0]?.[0]).toMatch(HOT);
    expect(p.total).toBeGreaterThan(100);
    // the flame graph's comm node carries its samples, and the root all of them
    const node = p.flamedata.find((f) => f.level === 1 && f.label === COMM)!;
    expect(node.value).toBe(top.reduce((s, [, n]) => s + n, 0));
    expect(p.flamedata[0]).toMatchObject({ level: 0, label: "all", value: p.total });
  }, 30_000);

  test("the pid filter samples that process only, with its user frames named from dd's symbols", async () => {
    const load = startLoad(4);
    await Bun.sleep(200);
    const p = await captureProfile({ durationMs: 1500, pid: load.pid });
    load.kill();
    expect(new Set(p.stacks.map((s) => s.pid))).toEqual(new Set([load.pid]));
    expect(p.stacks.some((s) => s.frames.includes("read"))).toBe(true);
  }, 30_000);

  test.skipIf(!perfBinary())("same top functions as perf record -g on the same load", async () => {
    const perf = perfBinary()!;
    const data = join(tmpdir(), `huatuo-perf-${process.pid}.data`);
    const load = startLoad(5);
    await Bun.sleep(200);
    const perfRun = Bun.spawn([perf, "record", "-F", "99", "-a", "-g", "-o", data, "--", "sleep", "2.5"], { stdout: "ignore", stderr: "ignore" });
    const ours = await captureProfile({ durationMs: 2500 });
    await perfRun.exited;
    load.kill();
    const theirs = perfTop(perf, data, COMM);
    rmSync(data, { force: true });
    const mine = selfByFunction(ours, COMM);
    const total = mine.reduce((sum, [, n]) => sum + n, 0);
    const share = (list: Array<[string, number]>) => list.map(([f, n]) => `${f} ${n.toFixed(1)}%`).slice(0, 4).join(", ");
    const minePct = mine.map(([f, n]) => [f, (100 * n) / total] as [string, number]);
    console.log(`top functions of ${COMM}: ours ${share(minePct)}; perf ${share(theirs)}`);
    // the same function on top, with a share within sampling noise of perf's
    expect(minePct[0]![0]).toBe(theirs[0]![0]);
    expect(Math.abs(minePct[0]![1] - theirs[0]![1])).toBeLessThan(15);
    // every function perf gives at least 5% is also among ours (the rest are a few samples each, in any order)
    const ourNames = new Set(mine.map(([f]) => f));
    for (const [f, pct] of theirs) if (pct >= 5) expect(ourNames).toContain(f);
  }, 30_000);
});
