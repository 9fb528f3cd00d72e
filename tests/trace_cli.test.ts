// `huatuo-bamai trace` from the built binary: the list, one-line errors with exit 2, data on stdout and diagnostics
// on stderr, --output json, --save into the config's local storage, and a run in a real terminal (tmux).
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Document } from "../src/storage/document";
import { isRoot, rootOnly } from "./support/bpf_helpers";
import { BINARY, runBinary, workDir } from "./support/daemon";

const ANSI = /\x1b\[[0-9;]*m/;

function expectUsageError(r: { code: number; stdout: string; stderr: string }, pattern: RegExp): void {
  expect(r.code).toBe(2);
  expect(r.stdout).toBe("");
  // commander puts its "(Did you mean ...?)" suggestion on a line of its own
  expect(r.stderr.trim().split("\n").filter((l) => !l.startsWith("(Did you mean"))).toHaveLength(1);
  expect(r.stderr).toMatch(pattern);
}

test("--list names the five with what they capture", async () => {
  const r = await runBinary(["trace", "--list"]);
  expect(r.code).toBe(0);
  const names = r.stdout.trim().split("\n").map((l) => l.split(/\s+/)[0]);
  expect(names).toEqual(["cpusys", "cpuidle", "dload", "iotracing", "memburst"]);
  expect(r.stdout).toContain("flame graph");
});

describe("bad arguments: one line on stderr, exit 2", () => {
  const dir = workDir();
  const badConf = join(dir, "bad.conf");
  writeFileSync(badConf, "[AutoTracing.CPUSys]\nSysThreshold = 400\n");
  test.each([
    [[], /missing tracer name/],
    [["cpuload"], /unknown tracer "cpuload": want one of cpusys, cpuidle/],
    [["cpusys", "--duration", "abc"], /--duration: want a number above 0/],
    [["cpusys", "--duration", "0"], /--duration/],
    [["cpusys", "--duration", "99999"], /at most 3600/],
    [["cpusys", "--output", "xml"], /--output: want table or json/],
    [["cpusys", "--top", "1.5"], /--top: want a whole number/],
    [["cpuidle"], /cpuidle traces one container: give --container/],
    [["memburst", "--container", "abc"], /--container applies to cpuidle and dload/],
    [["cpusys", "--durtion", "2"], /unknown option '--durtion'[\s\S]*--duration/],
    [["cpusys", "extra"], /too many arguments/],
    [["memburst", "--config", badConf], /SysThreshold/],
    [["memburst", "--config", join(dir, "missing.conf")], /missing\.conf/],
  ] as Array<[string[], RegExp]>)("trace %p", async (args, pattern) => {
    expectUsageError(await runBinary(["trace", ...args]), pattern);
  });
});

describe("memburst: output and saving", () => {
  test("table on stdout without colour when piped, the diagnostic on stderr", async () => {
    const r = await runBinary(["trace", "memburst"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^memburst: anonymous memory \d+ MiB/);
    expect(r.stdout).toContain("RSS");
    expect(r.stdout).not.toMatch(ANSI);
    expect(r.stderr).toContain("memburst snapshot");
  });

  test("--output json is the document; --save stores the same one as tracer_type manual", async () => {
    const dir = workDir();
    const conf = join(dir, "huatuo-bamai.conf");
    writeFileSync(conf, `[Storage.LocalFile]\nPath = "${join(dir, "records")}"\n[AutoTracing.MemoryBurst]\nDumpProcessMaxNum = 3\n`);
    const r = await runBinary(["trace", "memburst", "--output", "json", "--save", "--config", conf, "--region", "lab"]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as Document;
    expect(doc).toMatchObject({ tracer_name: "memburst", tracer_type: "manual", region: "lab" });
    expect((doc.tracer_data.top_memory_usage as unknown[]).length).toBe(3);
    expect(r.stderr).toContain(`saved as tracer_id ${doc.tracer_id}`);
    const file = join(dir, "records", "memburst");
    expect(existsSync(file)).toBe(true);
    const stored = readFileSync(file, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Document);
    expect(stored).toEqual([doc]);
  });
});

describe.skipIf(!isRoot || !Bun.which("tmux"))(rootOnly("trace cpusys in a terminal"), () => {
  const session = `hbtrace${process.pid}`;
  afterAll(() => void Bun.spawnSync(["tmux", "kill-session", "-t", session]));

  async function runInTmux(env: string): Promise<string> {
    Bun.spawnSync(["tmux", "kill-session", "-t", session]);
    const cmd = `${env} ${BINARY} trace cpusys --duration 2 --top 5; echo EXIT=$?; sleep 60`;
    const started = Bun.spawnSync(["tmux", "new-session", "-d", "-s", session, "-x", "150", "-y", "70", cmd]);
    expect(started.exitCode).toBe(0);
    for (let i = 0; i < 100; i++) {
      const pane = Bun.spawnSync(["tmux", "capture-pane", "-p", "-e", "-t", session, "-S", "-200"]).stdout.toString();
      if (pane.includes("EXIT=")) return pane;
      await Bun.sleep(100);
    }
    throw new Error("trace cpusys did not finish in tmux");
  }

  test("prints a readable table and a flame view in colour, and exits 0", async () => {
    const pane = await runInTmux("");
    const plain = pane.replace(new RegExp(ANSI.source, "g"), "");
    expect(plain).toContain("EXIT=0");
    expect(plain).toMatch(/^cpusys: host system CPU \d+% over the capture/m);
    expect(plain).toContain("Hottest stacks");
    expect(plain).toMatch(/│ #\s+│ SAMPLES │ %\s+│ PROCESS\s+│ STACK \(leaf ← callers\)/);
    expect(plain).toMatch(/^\s*100\.0% █+ all$/m);
    // every table line fits the 150-column terminal
    for (const line of plain.split("\n")) expect(Bun.stringWidth(line)).toBeLessThanOrEqual(150);
    expect(pane).toMatch(ANSI);
  }, 30_000);

  test("NO_COLOR turns colour off on a terminal", async () => {
    const pane = await runInTmux("NO_COLOR=1");
    expect(pane).toContain("EXIT=0");
    expect(pane).not.toMatch(ANSI);
  }, 30_000);
});
