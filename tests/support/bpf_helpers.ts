// Shared by the tests/bpf_*.test.ts files: the BPF build they run against and the root requirement.
import { join } from "node:path";

export const ROOT = join(import.meta.dir, "../..");
export const isRoot = process.getuid?.() === 0;
const ROOT_REASON = "needs root: loads BPF programs into the running kernel";

/** A describe() name that carries the skip reason when the suite cannot run here. */
export function rootOnly(name: string): string {
  return isRoot ? name : `${name} [skipped: ${ROOT_REASON}]`;
}

/** Builds the BPF objects, native library and embed module if anything changed (fast when nothing did). */
export function buildBpf(): void {
  const built = Bun.spawnSync(["bash", join(ROOT, "scripts/build-bpf.sh")], { stderr: "pipe" });
  if (built.exitCode !== 0) throw new Error(`scripts/build-bpf.sh failed: ${built.stderr.toString()}`);
}

/** Runs a command to completion; returns its exit code and output. */
export function run(cmd: string[], env: Record<string, string> = {}): { code: number; stdout: string; stderr: string } {
  const proc = Bun.spawnSync(cmd, { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  return { code: proc.exitCode ?? -1, stdout: proc.stdout.toString(), stderr: proc.stderr.toString() };
}
