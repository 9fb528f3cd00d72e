// oom: every OOM kill with its victim and trigger (the task that ran the OOM killer), their memory cgroups and
// containers, and a memory snapshot; `oom_host_total` and `oom_container_total{...,latest_victim_comm}` count them.
import { readFileSync } from "node:fs";
import { decodeOomEvent, type OomEvent } from "../bpf/gen/oom";
import { kernelFeatures, type LoadOptions, type TracerBpf } from "../bpf/loader";
import { constant } from "../bpf/object";
import { registerTracer } from "../framework/registry";
import type { Emitter, Tracer, TracerContext } from "../framework/types";
import type { Container } from "../pod/types";
import type { EventSink } from "../storage/sink";
import { eventChannel, loadEventObject, pumpEvents, tracepointHook } from "./bpf_events";
import { MemcgResolver } from "./memcg";
import { hostMeminfo, memcgSnapshot, type MemcgSnapshot } from "./oom_snapshot";
import { readFormat } from "./tp_format";

/** bpf/include/oom.h */
const OOM_VICTIM_TASK = 1;
const OOM_VICTIM_MEM = 2;
const OOM_MEMCG_USAGE = 4;
/** page_counter's "no limit" is LONG_MAX / PAGE_SIZE pages: anything this large is no limit. */
const UNLIMITED_PAGES = 2 ** 40;

/**
 * oom:mark_victim passes the victim's task_struct since 6.8 (when the record also gained comm and the memory
 * figures); before, only its pid, so the BTF and raw variants, which read the task, are offered only then.
 */
export function oomBpf(taskArgument: boolean, pageSize: number): TracerBpf {
  const hook = tracepointHook({
    prefix: "oom",
    program: "mark_victim",
    tracepoint: "oom/mark_victim",
    kinds: taskArgument ? ["tp_btf", "raw_tp", "tracepoint"] : ["tracepoint"],
    fallback: { kind: "kprobe", program: "oom_kp_kill_process", target: "oom_kill_process" },
  });
  return {
    object: "oom",
    hooks: [hook],
    constants: { page_shift: constant.u32(Math.log2(pageSize)) },
    events: eventChannel("oom"),
  };
}

/** AT_PAGESZ from the auxiliary vector: the kernel's page size. */
export function pageSize(auxv: Uint8Array = readFileSync("/proc/self/auxv")): number {
  const view = new DataView(auxv.buffer, auxv.byteOffset, auxv.byteLength);
  for (let at = 0; at + 16 <= auxv.byteLength; at += 16) {
    if (view.getBigUint64(at, true) === 6n) return Number(view.getBigUint64(at + 8, true));
  }
  return 4096;
}

async function markVictimHasTask(): Promise<boolean> {
  const tracefs = (await kernelFeatures()).tracefsPath;
  try {
    return tracefs !== undefined && readFormat(tracefs, "oom/mark_victim").fields.has("comm");
  } catch {
    return false;
  }
}

const hex = (css: bigint) => (css === 0n ? "" : `0x${css.toString(16).padStart(16, "0")}`);

interface Side {
  path?: string;
  container?: Container;
}

export class OomHandler {
  private host = 0;
  private readonly byContainer = new Map<string, { count: number; comm: string }>();

  constructor(
    private readonly memcg: MemcgResolver,
    private readonly sink: EventSink,
    private readonly pageBytes = 4096,
  ) {}

  async handle(e: OomEvent): Promise<void> {
    const victim = this.side(e.flags & OOM_VICTIM_TASK ? this.memcg.pathOfId(e.victim_memcg_id) : this.memcg.pathOfPid(e.victim_pid));
    const trigger = this.side(this.memcg.pathOfId(e.trigger_memcg_id));
    this.count(victim.container, e.victim_comm);
    const data = {
      ...this.actor("victim", e.victim_comm, e.victim_tgid || e.victim_pid, e.victim_memcg_css, victim),
      ...this.actor("trigger", e.trigger_comm, e.trigger_tgid, e.trigger_memcg_css, trigger),
      victim_tid: e.victim_pid,
      trigger_tid: e.trigger_pid,
      ...(e.flags & OOM_VICTIM_MEM && victimMemory(e)),
      memory_snapshot: await this.snapshot(e, victim.path, trigger.path),
    };
    this.sink.save({ tracerName: "oom", data, container: victim.container });
  }

  collect(emit: Emitter): void {
    emit.counter("host_total", "OOM kills of host processes since start", this.host);
    for (const c of this.memcg.containers.list().filter((c) => this.byContainer.has(c.id))) {
      const seen = this.byContainer.get(c.id)!;
      emit.forContainer(c).counter("total", "OOM kills in the container since start", seen.count, { latest_victim_comm: seen.comm });
    }
  }

  private side(path: string | undefined): Side {
    return { path, container: this.memcg.containerOf(path) };
  }

  private count(container: Container | undefined, comm: string): void {
    if (!container) {
      this.host++;
      return;
    }
    const seen = this.byContainer.get(container.id);
    this.byContainer.set(container.id, { count: (seen?.count ?? 0) + 1, comm });
  }

  /** The seed's flat victim_* / trigger_* fields, plus the memory cgroup path. */
  private actor(who: "victim" | "trigger", comm: string, pid: number, css: bigint, side: Side): Record<string, unknown> {
    return {
      [`${who}_process_name`]: comm,
      [`${who}_pid`]: pid,
      [`${who}_container_id`]: side.container?.id ?? "",
      [`${who}_container_hostname`]: side.container?.hostname ?? "",
      [`${who}_memcg_css`]: hex(css),
      [`${who}_memcg`]: side.path === undefined ? "" : `/${side.path}`,
    };
  }

  private async snapshot(e: OomEvent, victim: string | undefined, trigger: string | undefined) {
    const version = this.memcg.version;
    const read = (path: string | undefined): Promise<MemcgSnapshot> | undefined =>
      path === undefined || !version ? undefined : memcgSnapshot(this.memcg.dir(path)!, path, version);
    const [host, victimMemcg, triggerMemcg] = await Promise.all([
      hostMeminfo(),
      read(victim),
      trigger === victim ? undefined : read(trigger),
    ]);
    if (victimMemcg && e.flags & OOM_MEMCG_USAGE) victimMemcg.at_kill = this.atKill(e);
    return {
      host_meminfo: host,
      ...(victimMemcg && { victim_memcg: victimMemcg }),
      ...(triggerMemcg && { trigger_memcg: triggerMemcg }),
    };
  }

  private atKill(e: OomEvent): MemcgSnapshot["at_kill"] {
    const limit = e.memcg_limit_pages >= UNLIMITED_PAGES ? null : e.memcg_limit_pages * this.pageBytes;
    return { usage_bytes: e.memcg_usage_pages * this.pageBytes, limit_bytes: limit };
  }
}

/** What the kernel reports about the victim's memory (the tracepoint's figures, in kB). */
function victimMemory(e: OomEvent): Record<string, number> {
  return {
    victim_uid: e.victim_uid,
    victim_oom_score_adj: e.oom_score_adj,
    victim_total_vm_kb: e.total_vm_kb,
    victim_anon_rss_kb: e.anon_rss_kb,
    victim_file_rss_kb: e.file_rss_kb,
    victim_shmem_rss_kb: e.shmem_rss_kb,
    victim_pgtables_kb: e.pgtables_kb,
  };
}

export async function createOom(ctx: TracerContext, options: LoadOptions = {}): Promise<Tracer> {
  const page = pageSize();
  const object = await loadEventObject(oomBpf(await markVictimHasTask(), page), options);
  const handler = new OomHandler(new MemcgResolver(ctx.containers), ctx.events, page);
  return {
    hook: object.hook,
    collector: { collect: (emit) => handler.collect(emit) },
    run: (signal) => pumpEvents(object, decodeOomEvent, (e) => handler.handle(e), signal, ctx.log),
    close: () => object.close(),
  };
}

registerTracer({
  name: "oom",
  kind: "event",
  description: "OOM kills: victim and trigger with memory cgroups, containers and a memory snapshot (oom:mark_victim)",
  restartInterval: 10,
  create: (ctx) => createOom(ctx),
});
