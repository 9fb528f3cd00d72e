// iolatency: block I/O q2c/d2c latency per disk and per container, aggregated in kernel by bpf/iolatency.bpf.c and
// read with one dump per map per scrape: HUATUO's zone counters, per-disk histograms, and queue freezes when hooked.
import { existsSync } from "node:fs";
import { decodeIolatCgroup, decodeIolatCgroupKey, decodeIolatDisk, type IolatCgroup, type IolatDisk } from "../bpf/gen/iolatency";
import type { HookKind, HookSpec } from "../bpf/hooks";
import type { LoadOptions, TracerBpf } from "../bpf/loader";
import type { BpfMap, MapDump } from "../bpf/maps";
import type { BpfObject } from "../bpf/object";
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector, Tracer, TracerContext } from "../framework/types";
import type { Container } from "../pod/types";
import { sysPath } from "../procfs/root";
import { loadMetricBpf, unattachedHooks } from "./bpf_tracer";
import { ContainerCgroupIds, pruneCgroupKeys } from "./cgroup_ids";
import { toSecondsHistogram } from "./latency_hist";

function blockHook(event: string, program: string, kernelFunction: string): HookSpec {
  const candidate = (kind: HookKind, prefix: string, target: string) => ({ kind, program: `iolat_${prefix}_${program}`, target });
  return {
    name: event,
    candidates: [
      candidate("tp_btf", "btf", `block/${event}`),
      candidate("raw_tp", "raw", `block/${event}`),
      candidate("tracepoint", "tp", `block/${event}`),
      candidate("kprobe", "kp", kernelFunction),
    ],
  };
}

/**
 * q2c counts from the request's allocation (blk-mq's start_time_ns: scheduler and dispatch queueing included, a
 * bio's wait in blk-throttle before it got a request not), d2c from block_rq_issue. Queue freezes have no
 * tracepoint: without kprobes the tracer runs without them and says so in its status.
 */
export const iolatencyBpf: TracerBpf = {
  object: "iolatency",
  hooks: [
    blockHook("block_rq_issue", "issue", "blk_mq_start_request"),
    blockHook("block_rq_complete", "complete", "blk_update_request"),
    {
      name: "freeze",
      candidates: [{ kind: "kprobe", program: "iolat_kp_freeze", target: "blk_freeze_queue_start" }],
      optional: true,
    },
  ],
};

const ZONES = "zones: 0 (20,30ms] 1 (30,50ms] 2 (50,100ms] 3 (100,200ms] 4 (200,400ms] 5 (400ms,+inf)";
const HELP = {
  q2c: `the disk q2c latency, I/O count by ${ZONES}`,
  d2c: `the disk d2c latency, I/O count by ${ZONES}`,
  containerQ2c: `container blkio q2c latency, I/O count by ${ZONES}`,
  containerD2c: `container blkio d2c latency, I/O count by ${ZONES}`,
  freeze: "the disk freeze event count",
  q2cSeconds: "block I/O latency from the request's allocation to its completion",
  d2cSeconds: "block I/O latency from dispatch to the driver to completion",
};

/** The kernel's dev_t (major << 20 | minor) as HUATUO's `disk` label, `major:minor`. */
export function diskLabel(dev: number): string {
  return `${dev >>> 20}:${dev & 0xfffff}`;
}

export function emitDisk(emit: Emitter, disk: string, d: IolatDisk, withFreeze: boolean): void {
  d.q2c_zones.forEach((n, zone) => emit.counter("blkdisk_q2c", HELP.q2c, n, { disk, zone: String(zone) }));
  d.d2c_zones.forEach((n, zone) => emit.counter("blkdisk_d2c", HELP.d2c, n, { disk, zone: String(zone) }));
  if (withFreeze) emit.counter("blkdisk_freeze", HELP.freeze, d.freeze, { disk });
  emit.histogram("blkdisk_q2c_seconds", HELP.q2cSeconds, toSecondsHistogram(d.q2c), { disk });
  emit.histogram("blkdisk_d2c_seconds", HELP.d2cSeconds, toSecondsHistogram(d.d2c), { disk });
}

/** Container zones, only those with I/O in them (as HUATUO). */
export function emitContainerDisk(emit: Emitter, disk: string, c: IolatCgroup): void {
  c.q2c_zones.forEach((n, zone) => n && emit.counter("blkdisk_q2c", HELP.containerQ2c, n, { disk, zone: String(zone) }));
  c.d2c_zones.forEach((n, zone) => n && emit.counter("blkdisk_d2c", HELP.containerD2c, n, { disk, zone: String(zone) }));
}

function viewOf(dump: MapDump): DataView {
  return new DataView(dump.values.buffer, dump.values.byteOffset, dump.values.byteLength);
}

class IolatencyCollector implements MetricCollector {
  private readonly disks: BpfMap;
  private readonly cgroups: BpfMap;
  private readonly ids = new ContainerCgroupIds("io");

  constructor(
    object: BpfObject,
    private readonly ctx: TracerContext,
    private readonly withFreeze: boolean,
  ) {
    this.disks = object.map("iolat_disks");
    this.cgroups = object.map("iolat_cgroups");
  }

  collect(emit: Emitter): void {
    this.collectDisks(emit);
    this.collectContainers(emit, this.ids.resolve(this.ctx.containers.list()));
  }

  /** Disks that no longer exist are dropped from the map (hot-unplugged, detached loop devices). */
  private collectDisks(emit: Emitter): void {
    const dump = this.disks.dump();
    const view = viewOf(dump);
    for (let i = 0; i < dump.count; i++) {
      const key = dump.keys.subarray(i * dump.keySize, (i + 1) * dump.keySize);
      const disk = diskLabel(key.readUInt32LE(0));
      if (!existsSync(sysPath("dev/block", disk))) {
        this.disks.delete(key);
        continue;
      }
      emitDisk(emit, disk, decodeIolatDisk(view, i * dump.valueStride), this.withFreeze);
    }
  }

  private collectContainers(emit: Emitter, containers: Map<bigint, Container>): void {
    const dump = this.cgroups.dump();
    const keys = new DataView(dump.keys.buffer, dump.keys.byteOffset, dump.keys.byteLength);
    const values = viewOf(dump);
    for (let i = 0; i < dump.count; i++) {
      const key = decodeIolatCgroupKey(keys, i * dump.keySize);
      const c = containers.get(key.cgroup);
      if (c) emitContainerDisk(emit.forContainer(c), diskLabel(key.dev), decodeIolatCgroup(values, i * dump.valueStride));
    }
    pruneCgroupKeys(this.cgroups, dump, containers);
  }
}

export async function createIolatency(ctx: TracerContext, options: LoadOptions = {}): Promise<Tracer> {
  const object = await loadMetricBpf(iolatencyBpf, options);
  const degraded = unattachedHooks(object);
  const withFreeze = object.hooks.some((h) => h.hook === "freeze" && h.attached);
  return {
    hook: object.hook,
    degraded: degraded || undefined,
    collector: new IolatencyCollector(object, ctx, withFreeze),
    close: () => object.close(),
  };
}

registerTracer({
  name: "iolatency",
  kind: "metric",
  description: "block I/O q2c/d2c latency per disk and container (block_rq_issue/complete), queue freezes, in BPF",
  create: (ctx) => createIolatency(ctx),
});
