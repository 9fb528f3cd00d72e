// softlockup: CPUs the soft-lockup watchdog found stuck. No tracepoint marks it: the kprobe on add_taint is used
// where kprobes exist, else the watchdog's "BUG: soft lockup" line in /dev/kmsg (hook `kmsg`). `softlockup_total`.
import { decodeSoftlockupEvent } from "../bpf/gen/softlockup";
import type { LoadOptions, TracerBpf } from "../bpf/loader";
import { eventPoller } from "../bpf/poller";
import { registerTracer } from "../framework/registry";
import { UnsupportedError, type Emitter, type Tracer, type TracerContext } from "../framework/types";
import type { EventSink } from "../storage/sink";
import { StormBackoff } from "./backoff";
import { eventChannel, loadEventObject, pumpEvents } from "./bpf_events";
import { allCpuBacktraces, type Backtraces } from "./diagnostics";
import { bootTimeMs, formatKmsgLine, KmsgTail, type KmsgRecord } from "./kmsg";
import { MemcgResolver } from "./memcg";

export const softlockupBpf: TracerBpf = {
  object: "softlockup",
  hooks: [{ name: "add_taint", candidates: [{ kind: "kprobe", program: "softlockup_kp_add_taint", target: "add_taint" }] }],
  events: eventChannel("softlockup"),
};

export interface Lockup {
  cpu: number;
  pid: number;
  comm: string;
  tgid?: number;
  stuckSeconds?: number;
  /** The watchdog's report after its BUG line (modules, registers, the stuck CPU's call trace). */
  report?: string[];
}

/** kernel/watchdog.c: `BUG: soft lockup - CPU#%d stuck for %us! [%s:%d]` (prefixed `watchdog: ` by its pr_fmt). */
const SOFT_LOCKUP = /BUG: soft lockup - CPU#(\d+) stuck for (\d+)s! \[(.*):(\d+)\]/;

export function parseSoftLockup(message: string): Lockup | undefined {
  const m = SOFT_LOCKUP.exec(message);
  if (!m) return undefined;
  return { cpu: Number(m[1]), stuckSeconds: Number(m[2]), comm: m[3]!, pid: Number(m[4]) };
}

/** How long after the BUG line the following log lines count as its report. */
const REPORT_MS = 2_000;
const REPORT_MAX_LINES = 400;

/** Finds soft lockups in kernel log records and collects each one's report. */
export class LockupScanner {
  private pending?: { lockup: Lockup; report: string[]; until: number };

  /** A lockup's report is being collected: feed again once REPORT_MS passed, even without new records. */
  get collecting(): boolean {
    return this.pending !== undefined;
  }

  /** Lockups whose report is complete by `nowMs`; the boot time is looked up only for a report's lines. */
  feed(records: KmsgRecord[], nowMs: number, bootMs?: number): Lockup[] {
    const done: Lockup[] = [];
    for (const record of records) {
      const lockup = parseSoftLockup(record.message);
      if (lockup) {
        this.finish(done);
        this.pending = { lockup, report: [], until: nowMs + REPORT_MS };
      }
      if (this.pending && this.pending.report.length < REPORT_MAX_LINES) {
        bootMs ??= bootTimeMs();
        this.pending.report.push(formatKmsgLine(record, bootMs));
      }
    }
    if (this.pending && nowMs >= this.pending.until) this.finish(done);
    return done;
  }

  private finish(done: Lockup[]): void {
    if (this.pending) done.push({ ...this.pending.lockup, report: this.pending.report });
    this.pending = undefined;
  }
}

/** Stores lockups (at most one per backoff interval), attributed to the container of the stuck task. */
export class SoftlockupHandler {
  private total = 0;
  private readonly backoff = new StormBackoff();

  constructor(
    private readonly memcg: MemcgResolver,
    private readonly sink: EventSink,
    private readonly backtraces: () => Promise<Backtraces> = allCpuBacktraces,
  ) {}

  async handle(l: Lockup): Promise<void> {
    this.total++;
    if (!this.backoff.allow(Date.now())) return;
    // the watchdog's report shows the stuck CPU; SysRq 'l' adds every CPU where the administrator allows it
    const parts = l.report?.length ? [l.report.join("\n")] : [];
    const all = await this.backtraces();
    if (all.captured || !parts.length) parts.push(all.text);
    const data = {
      cpu: l.cpu,
      pid: l.pid,
      comm: l.comm,
      cpus_stack: parts.join("\n"),
      ...(l.tgid !== undefined && { tgid: l.tgid }),
      ...(l.stuckSeconds !== undefined && { stuck_seconds: l.stuckSeconds }),
    };
    const container = this.memcg.containerOf(this.memcg.pathOfPid(l.pid));
    this.sink.save({ tracerName: "softlockup", data, container });
  }

  collect(emit: Emitter): void {
    emit.counter("total", "softlockup counter", this.total);
  }
}

/**
 * Tails /dev/kmsg through the shared poller, so an idle host costs no wake-ups. Lockups are handled one after
 * another behind the reads; a handling failure ends the run (the framework restarts the tracer).
 */
async function watchKmsg(tail: KmsgTail, handler: SoftlockupHandler, signal: AbortSignal): Promise<void> {
  const scanner = new LockupScanner();
  const failed = new AbortController();
  let failure: unknown;
  let handling = Promise.resolve();
  let finishing: Timer | undefined;
  const handle = (lockups: Lockup[]) => {
    for (const lockup of lockups) {
      handling = handling
        .then(() => handler.handle(lockup))
        .catch((err) => {
          failure ??= err;
          failed.abort();
        });
    }
  };
  // a report ends REPORT_MS after its BUG line even when nothing more is logged
  const finishLater = () => {
    clearTimeout(finishing);
    finishing = scanner.collecting ? setTimeout(() => (handle(scanner.feed([], Date.now())), finishLater()), REPORT_MS) : undefined;
  };
  const scan = () => {
    const records = tail.read();
    handle(scanner.feed(records, Date.now()));
    finishLater();
    return records.length > 0;
  };
  try {
    await (await eventPoller()).watch(tail.fd, scan, AbortSignal.any([signal, failed.signal]));
  } finally {
    clearTimeout(finishing);
  }
  await handling;
  if (failure) throw failure;
}

function kmsgTracer(handler: SoftlockupHandler, kprobeReason: string): Tracer {
  const tail = new KmsgTail();
  try {
    tail.open();
  } catch (err) {
    throw new UnsupportedError(`${kprobeReason}; /dev/kmsg unreadable: ${(err as Error).message}`);
  }
  return {
    hook: "kmsg",
    collector: { collect: (emit) => handler.collect(emit) },
    run: (signal) => watchKmsg(tail, handler, signal),
    close: () => tail.close(),
  };
}

export async function createSoftlockup(ctx: TracerContext, options: LoadOptions = {}): Promise<Tracer> {
  const handler = new SoftlockupHandler(new MemcgResolver(ctx.containers), ctx.events);
  try {
    const object = await loadEventObject(softlockupBpf, options);
    const onEvent = (e: { cpu: number; pid: number; tgid: number; comm: string }) => handler.handle(e);
    return {
      hook: object.hook,
      collector: { collect: (emit) => handler.collect(emit) },
      run: (signal) => pumpEvents(object, decodeSoftlockupEvent, onEvent, signal, ctx.log),
      close: () => object.close(),
    };
  } catch (err) {
    if (!(err instanceof UnsupportedError)) throw err;
    ctx.log.info("softlockup: reading the kernel log instead of the kprobe", { reason: err.message });
    return kmsgTracer(handler, err.message);
  }
}

registerTracer({
  name: "softlockup",
  kind: "event",
  description: "soft lockups (kprobe add_taint, else the watchdog's line in /dev/kmsg) with all-CPU backtraces",
  restartInterval: 10,
  create: (ctx) => createSoftlockup(ctx),
});
