// Benchmark: cost of the embedded CPU profiler at 99 Hz on every CPU while the CPUs are busy (so every sample runs
// the whole program): BPF run time (kernel.bpf_stats_enabled), this process's CPU while sampling, and the cost of
// reading and symbolizing the capture. Prints figures only. Usage: bun scripts/bench/profiler_overhead.ts [seconds]
import { spawn } from "bun";
import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { kernelSymbols } from "../../src/procfs/kallsyms";
import { symbolize } from "../../src/profiler/profile";
import { readSamples, startSampler } from "../../src/profiler/sampler";

const SECONDS = Number(process.argv[2] ?? 10);
const STATS = "/proc/sys/kernel/bpf_stats_enabled";
const ncpu = cpus().length;

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const previousStats = readFileSync(STATS, "utf8").trim();
writeFileSync(STATS, "1");
const burners = Array.from({ length: ncpu }, () => spawn(["sh", "-c", "while :; do :; done"], { stdout: "ignore" }));
try {
  // the kernel symbol table is shared by every tracer and kept for minutes: loaded apart, and reported apart
  const k0 = cpuMs();
  await kernelSymbols();
  const kallsymsMs = cpuMs() - k0;
  const object = await startSampler({ frequency: 99 });
  const cpu0 = cpuMs();
  const t0 = performance.now();
  await Bun.sleep(SECONDS * 1000);
  const wallMs = performance.now() - t0;
  const samplingCpuMs = cpuMs() - cpu0;
  const { runTimeNs, runCount } = object.programStats("profile_sample");
  const r0 = cpuMs();
  const raw = readSamples(object);
  object.close();
  const stacks = await symbolize(raw.samples);
  const readCpuMs = cpuMs() - r0;

  const bpfPct = (runTimeNs / 1e6 / wallMs) * 100;
  const agentPct = (samplingCpuMs / wallMs) * 100;
  const capturePct = ((runTimeNs / 1e6 + samplingCpuMs + readCpuMs) / wallMs) * 100;
  console.log(`profiler at 99 Hz on ${ncpu} CPUs, ${(wallMs / 1000).toFixed(1)} s, CPUs kept busy`);
  console.log(`  samples: ${runCount} program runs (${(runCount / (wallMs / 1000) / ncpu).toFixed(1)} per CPU per s), ${raw.total} counted, ${stacks.length} distinct stacks, ${raw.stackMissing} stacks missing`);
  console.log(`  BPF program: ${(runTimeNs / Math.max(1, runCount) / 1000).toFixed(1)} us per sample, ${bpfPct.toFixed(3)}% of one core`);
  console.log(`  agent while sampling: ${samplingCpuMs.toFixed(1)} ms CPU, ${agentPct.toFixed(3)}% of one core`);
  console.log(`  while sampling (BPF + agent): ${(bpfPct + agentPct).toFixed(3)}% of one core (goal <= 1%)`);
  console.log(`  reading + symbolizing the capture: ${readCpuMs.toFixed(0)} ms CPU once; loading /proc/kallsyms: ${kallsymsMs.toFixed(0)} ms CPU (cached 5 min)`);
  console.log(`  whole ${SECONDS} s capture incl. reading and symbolizing: ${capturePct.toFixed(2)}% of one core`);
} finally {
  for (const b of burners) b.kill();
  writeFileSync(STATS, previousStats);
}
