// Benchmark: per-event cost of our runqlat BPF programs against libbpf-tools runqlat, both attached under the same
// stress-ng --switch load, from the kernel's own accounting (kernel.bpf_stats_enabled=1). Prints figures only.
import { spawn } from "bun";
import { readFileSync, writeFileSync } from "node:fs";
import { loadTracer } from "../../src/bpf/loader";
import type { BpfObject } from "../../src/bpf/object";
import { runqlatSpec } from "../../src/metrics/runqlat";

const STATS = "/proc/sys/kernel/bpf_stats_enabled";
const LOAD_SECONDS = 4;
const THEIRS = ["sched_wakeup", "sched_wakeup_new", "sched_switch"];
const OURS: Record<string, string> = { wakeup: "sched_wakeup", wakeup_new: "sched_wakeup_new", switch: "sched_switch" };

interface Stat {
  runTimeNs: number;
  runCount: number;
}

type Snapshot = Map<string, Stat>;

function bpftoolProgs(): Array<{ id: number; name?: string; run_time_ns?: number; run_cnt?: number }> {
  const out = Bun.spawnSync(["bpftool", "prog", "show", "-j"], { stdout: "pipe" });
  return JSON.parse(out.stdout.toString() || "[]");
}

/** libbpf-tools runqlat's programs: the ones of its names loaded after `known`. */
function theirs(known: Set<number>): Snapshot {
  const snap: Snapshot = new Map();
  for (const p of bpftoolProgs()) {
    if (known.has(p.id) || !p.name || !THEIRS.includes(p.name)) continue;
    snap.set(p.name, { runTimeNs: p.run_time_ns ?? 0, runCount: p.run_cnt ?? 0 });
  }
  return snap;
}

function ours(object: BpfObject): Snapshot {
  const snap: Snapshot = new Map();
  for (const [suffix, event] of Object.entries(OURS)) snap.set(event, object.programStats(`runqlat_btf_${suffix}`));
  return snap;
}

function delta(before: Snapshot, after: Snapshot): Snapshot {
  const out: Snapshot = new Map();
  for (const [name, a] of after) {
    const b = before.get(name) ?? { runTimeNs: 0, runCount: 0 };
    out.set(name, { runTimeNs: a.runTimeNs - b.runTimeNs, runCount: a.runCount - b.runCount });
  }
  return out;
}

const perEvent = (s: Stat | undefined) => (s && s.runCount ? s.runTimeNs / s.runCount : NaN);

function total(snap: Snapshot): Stat {
  let runTimeNs = 0;
  let runCount = 0;
  for (const s of snap.values()) (runTimeNs += s.runTimeNs), (runCount += s.runCount);
  return { runTimeNs, runCount };
}

interface Result {
  ours: Snapshot;
  theirs: Snapshot;
}

/** Both attached at once under one stress-ng run, so the same events reach both; `oursFirst` runs first. */
async function measure(perCgroup: boolean, oursFirst: boolean): Promise<Result> {
  const known = new Set(bpftoolProgs().map((p) => p.id));
  const object = oursFirst ? await loadTracer(runqlatSpec(perCgroup)) : undefined;
  const reference = spawn(["runqlat", String(LOAD_SECONDS + 6), "1"], { stdout: "ignore", stderr: "ignore" });
  while (theirs(known).size < THEIRS.length) await Bun.sleep(50);
  const ourObject = object ?? (await loadTracer(runqlatSpec(perCgroup)));
  const before = { ours: ours(ourObject), theirs: theirs(known) };
  await spawn(["stress-ng", "--switch", "2", "-t", String(LOAD_SECONDS)], { stdout: "ignore", stderr: "ignore" }).exited;
  const result = { ours: delta(before.ours, ours(ourObject)), theirs: delta(before.theirs, theirs(known)) };
  reference.kill();
  await reference.exited;
  ourObject.close();
  return result;
}

function print(title: string, r: Result): number {
  console.log(`\n${title}`);
  console.log("program            ours ns/event   theirs ns/event   ratio   ours events   theirs events");
  for (const name of THEIRS) {
    const [o, t] = [r.ours.get(name), r.theirs.get(name)];
    const cells = [perEvent(o).toFixed(1).padStart(13), perEvent(t).toFixed(1).padStart(15), (perEvent(o) / perEvent(t)).toFixed(2).padStart(5)];
    console.log(`${name.padEnd(18)} ${cells.join("   ")}   ${String(o?.runCount).padStart(11)}   ${String(t?.runCount).padStart(13)}`);
  }
  const ratio = perEvent(total(r.ours)) / perEvent(total(r.theirs));
  console.log(`all events         ${perEvent(total(r.ours)).toFixed(1).padStart(13)}   ${perEvent(total(r.theirs)).toFixed(1).padStart(15)}   ${ratio.toFixed(2).padStart(5)}`);
  return ratio;
}

/** The program that runs first on a tracepoint takes the cache misses on the task: each order once, then the mean. */
async function compare(perCgroup: boolean): Promise<void> {
  const what = perCgroup ? "ours with per_cgroup (container series, as the daemon runs)" : "ours host only";
  const first = print(`${what}, attached before libbpf-tools runqlat:`, await measure(perCgroup, true));
  const second = print(`${what}, attached after libbpf-tools runqlat:`, await measure(perCgroup, false));
  console.log(`=> ${what}: ratio ${Math.sqrt(first * second).toFixed(2)} (geometric mean of both orders; goal <= 1.20)`);
}

const previous = readFileSync(STATS, "utf8").trim();
writeFileSync(STATS, "1");
try {
  console.log(`runqlat per-event cost, stress-ng --switch 2 for ${LOAD_SECONDS} s, kernel ${readFileSync("/proc/sys/kernel/osrelease", "utf8").trim()}`);
  await compare(false);
  await compare(true);
} finally {
  writeFileSync(STATS, previous);
}
