// hungtask: tasks khungtaskd found blocked in D state for hung_task_timeout_secs (sched:sched_process_hang), stored
// with the stacks of all D-state tasks and all-CPU backtraces; stores back off 10 min → 3 h, `hungtask_total` counts all.
import { decodeHungtaskEvent, type HungtaskEvent } from "../bpf/gen/hungtask";
import type { LoadOptions, TracerBpf } from "../bpf/loader";
import { registerTracer } from "../framework/registry";
import { UnsupportedError, type Emitter, type Tracer, type TracerContext } from "../framework/types";
import type { Logger } from "../log";
import { procPath, readTextSync } from "../procfs/root";
import type { EventSink } from "../storage/sink";
import { StormBackoff } from "./backoff";
import { eventChannel, loadEventObject, pumpEvents, tracepointHook } from "./bpf_events";
import { allCpuBacktraces, blockedTaskStacks, type Backtraces } from "./diagnostics";
import { MemcgResolver } from "./memcg";

export const hungtaskBpf: TracerBpf = {
  object: "hungtask",
  hooks: [tracepointHook({ prefix: "hungtask", program: "hang", tracepoint: "sched/sched_process_hang" })],
  events: eventChannel("hungtask"),
};

/** hung_task_timeout_secs (0: checks disabled), or undefined in a kernel without CONFIG_DETECT_HUNG_TASK. */
export function hungTaskTimeout(): number | undefined {
  try {
    const value = Number(readTextSync(procPath("sys/kernel/hung_task_timeout_secs")).trim());
    return Number.isInteger(value) && value >= 0 ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The thread group of a task from /proc (the classic tracepoint reports the thread id only). */
function tgidOf(pid: number): number {
  try {
    return Number(/^Tgid:\s*(\d+)/m.exec(readTextSync(procPath(String(pid), "status")))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

export class HungtaskHandler {
  private total = 0;
  private readonly backoff = new StormBackoff();

  constructor(
    private readonly memcg: MemcgResolver,
    private readonly sink: EventSink,
    private readonly log: Logger,
    private readonly backtraces: () => Promise<Backtraces> = allCpuBacktraces,
  ) {}

  async handle(e: HungtaskEvent): Promise<void> {
    this.total++;
    if (!this.backoff.allow(Date.now())) {
      this.log.debug("hung task not stored: backing off", { pid: e.pid, comm: e.comm });
      return;
    }
    const container = this.memcg.containerOf(this.memcg.pathOfPid(e.pid));
    const data = {
      pid: e.pid,
      tgid: e.tgid || tgidOf(e.pid),
      comm: e.comm,
      cpus_stack: (await this.backtraces()).text,
      blocked_processes_stack: blockedTaskStacks(),
      hung_task_timeout_secs: hungTaskTimeout(),
    };
    this.sink.save({ tracerName: "hungtask", data, container });
  }

  collect(emit: Emitter): void {
    emit.counter("total", "hungtask counter", this.total);
  }
}

export async function createHungtask(ctx: TracerContext, options: LoadOptions = {}): Promise<Tracer> {
  if (hungTaskTimeout() === undefined) {
    throw new UnsupportedError("hung task detection unavailable: no /proc/sys/kernel/hung_task_timeout_secs");
  }
  const object = await loadEventObject(hungtaskBpf, options);
  const handler = new HungtaskHandler(new MemcgResolver(ctx.containers), ctx.events, ctx.log);
  return {
    hook: object.hook,
    collector: { collect: (emit) => handler.collect(emit) },
    run: (signal) => pumpEvents(object, decodeHungtaskEvent, (e) => handler.handle(e), signal, ctx.log),
    close: () => object.close(),
  };
}

registerTracer({
  name: "hungtask",
  kind: "event",
  description: "tasks blocked in D state past hung_task_timeout_secs (sched:sched_process_hang), with D-state stacks",
  restartInterval: 10,
  create: (ctx) => createHungtask(ctx),
});
