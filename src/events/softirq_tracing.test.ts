// softirq_tracing records as the BPF program delivers them: the seed's fields, the vector name and a symbolized stack.
import { expect, test } from "bun:test";
import type { SoftirqTracingEvent } from "../bpf/gen/softirq_tracing";
import { Kallsyms } from "../procfs/kallsyms";
import { MemcgResolver } from "./memcg";
import { SoftirqHandler } from "./softirq_tracing";
import { CaptureSink } from "./testing";

const KALLSYMS = [
  "ffffffff81000000 T _stext",
  "ffffffff81090000 T bpf_trace_run1",
  "ffffffff81090100 T __traceiter_softirq_entry",
  "ffffffffc0001000 t bpf_prog_509c7fbcb9b884f3_softirq_btf_entry [bpf]",
  "ffffffff810a0000 T handle_softirqs",
  "ffffffff810a0400 T __local_bh_enable_ip",
  "ffffffff810a0500 t mlx_poll_cq [mlx5_core]",
  "ffffffff810a0900 T vfs_write",
].join("\n");

test("offtime over the threshold with the task, CPU and the stack that let the softirq run, tracing frames left out", async () => {
  const sink = new CaptureSink();
  const memcg = new MemcgResolver({ list: () => [] }, { mode: "none", v1: new Map() });
  const handler = new SoftirqHandler(memcg, sink, async () => Kallsyms.parse(KALLSYMS));
  const event: SoftirqTracingEvent = {
    offtime_ns: 237328905, threshold_ns: 10_000_000, now_ns: 5532940660025295, memcg_id: 1n, pid: 688073, tgid: 688070, cpu: 1, vec: 3, stack_bytes: 48,
    comm: "agent", stack: [
      0xffffffffc0001044n, 0xffffffff81090054n, 0xffffffff81090127n, 0xffffffff810a0012n, 0xffffffff810a0433n,
      0xffffffff810a0512n, 0xdeadn, ...new Array(41).fill(0n),
    ],
  };
  await handler.handle(event);
  expect(sink.inputs[0]!.tracerName).toBe("softirq_tracing");
  expect(sink.data[0]).toEqual({
    offtime: 237328905, threshold: 10000000, comm: "agent", pid: 688073, tgid: 688070, cpu: 1, now: 5532940660025295,
    softirq: "NET_RX",
    stack: "handle_softirqs+0x12/0x400\n__local_bh_enable_ip+0x33/0x100\nmlx_poll_cq+0x12/0x400 [mlx5_core]",
  });
  await handler.handle({ ...event, stack_bytes: -14, vec: 12 });
  expect(sink.data[1]).toMatchObject({ stack: "", softirq: "12" });
});
