// Benchmark: resident memory while symbolizing samples of large binaries: node (99 MB, 110k .symtab symbols) hashing
// in its built-in OpenSSL, and rustc (librustc_driver, 150 MB, 165k symbols) compiling. Runs the capture in a child
// process so its peak RSS (VmHWM) is the profiler's own. Prints figures only. Usage: bun scripts/bench/profiler_rss.ts
import { spawn } from "bun";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CHILD = process.argv[2] === "--child";

function status(field: string): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(require("node:fs").readFileSync("/proc/self/status", "utf8"));
  return Number(m?.[1] ?? 0) / 1024;
}

async function child(pids: number[]): Promise<void> {
  const { readSamples, startSampler } = await import("../../src/profiler/sampler");
  const { UserSymbolizer } = await import("../../src/profiler/user_symbols");
  const before = status("VmRSS");
  const object = await startSampler({ frequency: 99 });
  await Bun.sleep(3000);
  const raw = readSamples(object);
  object.close();
  const started = performance.now();
  const sym = new UserSymbolizer();
  const mine = raw.samples.filter((s) => pids.includes(s.pid));
  for (const pid of pids) await sym.loadProcess(pid);
  const names = new Map<string, number>();
  for (const s of mine) for (const a of s.ustack) names.set(sym.resolve(s.pid, Number(a)), (names.get(sym.resolve(s.pid, Number(a))) ?? 0) + s.count);
  const usage = sym.usage();
  const ms = performance.now() - started;
  sym.close();
  const top = [...names].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([n]) => n);
  console.log(`  ${mine.length} stacks of the large binaries, ${names.size} distinct user frames, symbolized in ${ms.toFixed(0)} ms`);
  console.log(`  ${usage.files} ELF files cached, ${(usage.bytes / 2 ** 20).toFixed(1)} MiB of symbol arrays`);
  console.log(`  hottest user frames: ${top.join(", ")}`);
  console.log(`  RSS: ${before.toFixed(0)} MiB before the capture, peak ${status("VmHWM").toFixed(0)} MiB (goal <= 150 MiB)`);
}

async function parent(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "profiler-rss-"));
  writeFileSync(join(dir, "big.rs"), `fn main() {${Array.from({ length: 3000 }, (_, i) => ` let v${i} = vec![${i}u64; 3].iter().map(|x| x * 2).sum::<u64>();`).join("")} }`);
  const node = spawn(["node", "-e", "const c = require('crypto'); const b = Buffer.alloc(1 << 20); for (;;) c.createHash('sha256').update(b).digest()"], { stdout: "ignore" });
  const rustc = spawn(["rustc", "-O", "-o", join(dir, "big"), join(dir, "big.rs")], { stdout: "ignore", stderr: "ignore" });
  await Bun.sleep(500);
  console.log("profiler RSS while symbolizing large binaries (3 s at 99 Hz on every CPU)");
  const c = spawn([process.execPath, import.meta.path, "--child", String(node.pid), String(rustc.pid)], { stdout: "inherit", stderr: "inherit" });
  await c.exited;
  node.kill();
  rustc.kill();
  rmSync(dir, { recursive: true, force: true });
}

if (CHILD) await child(process.argv.slice(3).map(Number));
else await parent();
