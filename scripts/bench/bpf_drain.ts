// Benchmark: ring buffer drain throughput into decoded JavaScript objects. bpf/selftest.bpf.c emits one event per
// write(2) of a producer (dd bs=1, a synthetic high-rate tracepoint); losses are counted. Prints figures only.
import { spawn } from "bun";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decodeSelftestEvent, selftestEventLayout, type SelftestEvent } from "../../src/bpf/gen/selftest";
import { loadTracer } from "../../src/bpf/loader";
import { constant } from "../../src/bpf/object";

const EVENTS = Number(process.env.EVENTS ?? 3_000_000);

/** dd writing one byte per write(2), held until the go file appears so its pid can be set before the load. */
function producer(dir: string) {
  const go = join(dir, "go");
  const cmd = `while [ ! -e ${go} ]; do sleep 0.01; done; exec dd if=/dev/zero of=/dev/null bs=1 count=${EVENTS}`;
  return { proc: spawn(["sh", "-c", cmd], { stdout: "ignore", stderr: "ignore" }), start: () => writeFileSync(go, "") };
}

const dir = mkdtempSync(join(tmpdir(), "bpf-drain-"));
const { proc, start } = producer(dir);
const object = await loadTracer({
  object: "selftest",
  hooks: [{ name: "sys_enter_write", candidates: [{ kind: "tracepoint", program: "selftest_write", target: "syscalls/sys_enter_write" }] }],
  constants: { target_tgid: constant.u32(proc.pid) },
  events: { ringbuf: "selftest_rb", perfbuf: "selftest_pb", perfFlag: "use_perf" },
});
const reader = object.events();
let received = 0;
let gaps = 0;
let lastSeq = -1;
const onEvent = (e: SelftestEvent) => {
  received++;
  if (lastSeq >= 0 && e.seq !== lastSeq + 1) gaps++;
  lastSeq = e.seq;
};

let exited = false;
void proc.exited.then(() => (exited = true));
start();
let first = 0;
const cpu0 = process.cpuUsage();
for (;;) {
  const n = reader.drain(decodeSelftestEvent, onEvent, 10);
  if (n > 0 && !first) first = performance.now();
  if (n === 0 && exited) break;
  if (n === 0) await Bun.sleep(0);
}
const seconds = (performance.now() - first) / 1000;
const cpu = process.cpuUsage(cpu0);
const cpuSeconds = (cpu.user + cpu.system) / 1e6;
const produced = Number(object.map("selftest_calls").lookup(constant.u32(0))!.readBigUInt64LE(0));
const lost = reader.lost();
object.close();
rmSync(dir, { recursive: true, force: true });

console.log(`ring buffer drain, ${EVENTS} writes by dd bs=1 (one ${selftestEventLayout.size}-byte event each), decoded with decodeSelftestEvent`);
console.log(`produced (write calls seen by BPF)  ${produced}`);
console.log(`received and decoded                ${received}  (order breaks between CPUs: ${gaps})`);
console.log(`lost (ring full, counted in BPF)    ${lost}  (produced - received - lost = ${produced - received - lost})`);
console.log(`throughput                          ${Math.round(received / seconds).toLocaleString("en")} events/s over ${seconds.toFixed(2)} s (goal >= 200,000)`);
console.log(`consumer CPU                        ${(cpuSeconds / seconds * 100).toFixed(0)}% of one core, ${((cpuSeconds * 1e9) / received).toFixed(0)} ns/event => capacity ~${Math.round(received / cpuSeconds).toLocaleString("en")} events/s per core`);
