// Kept-open cgroup files on the real kernel: each read renders afresh, a removed cgroup reads as gone, one created
// again at the same path is opened anew, and an open file never stops the cgroup from being removed.
import { afterAll, expect, test } from "bun:test";
import { spawn } from "bun";
import { existsSync, mkdirSync, readdirSync, rmdirSync, writeFileSync } from "node:fs";
import { CgroupFiles } from "../src/pod/cgroup_files";

const DIR = `/sys/fs/cgroup/cpuacct/huatuo-files-${process.pid}`;
const BURN = ["sh", "-c", "while :; do :; done"];
const procs: ReturnType<typeof spawn>[] = [];

function burnIn(dir: string): void {
  const p = spawn(BURN, { stdout: "ignore", stderr: "ignore" });
  procs.push(p);
  writeFileSync(`${dir}/cgroup.procs`, String(p.pid));
}

async function stopBurners(): Promise<void> {
  const stopping = procs.splice(0);
  for (const p of stopping) p.kill("SIGKILL");
  await Promise.all(stopping.map((p) => p.exited));
}

afterAll(async () => {
  await stopBurners();
  if (existsSync(DIR)) rmdirSync(DIR);
});

test("a kept-open kernfs file: fresh on every read, gone with its cgroup, reopened when it comes back", async () => {
  const files = new CgroupFiles();
  const usage = `${DIR}/cpuacct.usage`;
  mkdirSync(DIR);
  burnIn(DIR);
  const first = Number(files.read(usage, true));
  await Bun.sleep(100);
  expect(Number(files.read(usage, true))).toBeGreaterThan(first);

  await stopBurners();
  const fds = readdirSync("/proc/self/fd").length;
  rmdirSync(DIR);
  expect(files.read(usage, true)).toBeUndefined();
  expect(readdirSync("/proc/self/fd").length).toBe(fds - 1);

  mkdirSync(DIR);
  expect(files.read(usage, true)).toBe("0\n");
  expect(files.read(`${DIR}/no.such.file`, true)).toBeUndefined();
});
