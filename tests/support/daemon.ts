// Starts the built binary as a real daemon for integration tests: a private config, port, pidfile and work dir.
import { spawn, type Subprocess } from "bun";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dir, "../..");
export const BINARY = join(REPO, "dist/huatuo-bamai");
export const FIXTURES = join(REPO, "fixtures");

let nextPort = 19800 + Math.floor(Math.random() * 100) * 10;

export function freePort(): number {
  return nextPort++;
}

export interface DaemonHandle {
  proc: Subprocess<"ignore", "pipe", "pipe">;
  port: number;
  dir: string;
  url(path: string): string;
  output(): Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number>;
}

export interface StartOptions {
  /** Extra TOML appended after the test's [HTTPServer] section. */
  config?: string;
  args?: string[];
  procfsPrefix?: string | null;
  waitReady?: boolean;
  /** Keep pod discovery on (no --disable-kubelet): the test's config points [Pod] at a fake kubelet. */
  kubelet?: boolean;
}

export function workDir(prefix = "huatuo-test-"): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Run the binary to completion (for one-shot commands and startup failures). */
export async function runBinary(args: string[], cwd = REPO): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = spawn([BINARY, ...args], { cwd, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

export async function startDaemon(opts: StartOptions = {}): Promise<DaemonHandle> {
  const dir = workDir();
  const port = freePort();
  const configPath = join(dir, "huatuo-bamai.conf");
  writeFileSync(configPath, `[HTTPServer]\nListenAddress = "127.0.0.1:${port}"\n${opts.config ?? ""}\n`);
  const prefix = opts.procfsPrefix === undefined ? FIXTURES : opts.procfsPrefix;
  const args = [
    "run",
    "--config", configPath,
    "--region", "test",
    "--pid-file", join(dir, "huatuo-bamai.pid"),
    ...(opts.kubelet ? [] : ["--disable-kubelet"]),
    ...(prefix ? ["--procfs-prefix", prefix] : []),
    ...(opts.args ?? []),
  ];
  const proc = spawn([BINARY, ...args], { cwd: dir, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const stdout = new Response(proc.stdout).text();
  const stderr = new Response(proc.stderr).text();
  const handle: DaemonHandle = {
    proc,
    port,
    dir,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    output: async () => (await stdout) + (await stderr),
    async stop(signal = "SIGTERM") {
      proc.kill(signal);
      return proc.exited;
    },
  };
  if (opts.waitReady !== false) await waitReady(handle);
  return handle;
}

export async function waitReady(handle: DaemonHandle, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (handle.proc.exitCode !== null) throw new Error(`daemon exited early:\n${await handle.output()}`);
    try {
      if ((await fetch(handle.url("/healthz"))).status === 204) return;
    } catch {
      // not listening yet
    }
    await Bun.sleep(50);
  }
  throw new Error("daemon not ready in time");
}

export async function scrape(handle: DaemonHandle): Promise<string> {
  const res = await fetch(handle.url("/metrics"));
  if (res.status !== 200) throw new Error(`/metrics returned ${res.status}`);
  return res.text();
}

/** `name{labels} value` lines for series whose name starts with `prefix`. */
export function seriesLines(exposition: string, prefix = "huatuo_bamai_"): string[] {
  return exposition.split("\n").filter((line) => line.startsWith(prefix));
}
