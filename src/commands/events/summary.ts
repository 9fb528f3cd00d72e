// One line of key facts per event (`events list` table, `events tail`): what an operator reads first for each
// tracer of the user guide, and the first few scalar fields for anything else.
import type { TracerData } from "../../storage/document";

type Part = (d: TracerData) => string | undefined;

const field =
  (name: string, label = name): Part =>
  (d) =>
    d[name] === undefined || d[name] === "" ? undefined : `${label}=${scalar(d[name])}`;

const actor =
  (prefix: string, label: string): Part =>
  (d) =>
    d[`${prefix}_process_name`] === undefined
      ? undefined
      : `${label}=${scalar(d[`${prefix}_process_name`])}(${scalar(d[`${prefix}_pid`])})`;

const task: Part = (d) => (d.comm === undefined ? undefined : `${scalar(d.comm)}(${scalar(d.pid)})`);

const tuple: Part = (d) =>
  d.saddr === undefined ? undefined : `${scalar(d.saddr)}:${scalar(d.sport)} > ${scalar(d.daddr)}:${scalar(d.dport)}`;

/** Nanoseconds as milliseconds, the unit the thresholds are discussed in. */
const nsAsMs =
  (name: string): Part =>
  (d) =>
    typeof d[name] === "number" ? `${name}=${((d[name] as number) / 1e6).toFixed(1)}ms` : undefined;

const firstLine =
  (name: string): Part =>
  (d) =>
    typeof d[name] === "string" ? (d[name] as string).split("\n").find((l) => /status|mode/i.test(l)) : undefined;

const PARTS: Record<string, Part[]> = {
  softirq_tracing: [task, field("cpu"), nsAsMs("offtime")],
  softlockup: [task, field("cpu")],
  hungtask: [task],
  oom: [actor("victim", "victim"), actor("trigger", "trigger"), field("victim_container_hostname", "container")],
  memory_reclaim_events: [task, nsAsMs("deltatime")],
  ras: [field("event"), field("type"), field("dev")],
  dropwatch: [field("type"), field("drop_reason", "reason"), tuple, field("sk_state", "state"), task],
  net_rx_latency: [field("where"), field("latency_ms"), tuple, task],
  netdev_events: [field("ifname"), field("linkstatus"), field("start")],
  netdev_bonding_lacp: [firstLine("content")],
  netdev_txqueue_timeout: [field("device_name", "dev"), field("queue_index", "queue"), field("driver_name", "driver")],
};

export function summarize(tracer: string, data: TracerData | undefined): string {
  if (!data) return "";
  const parts = PARTS[tracer] ?? generic(data);
  return parts
    .map((p) => p(data))
    .filter((s): s is string => s !== undefined)
    .join(" ");
}

/** The first four short scalar fields, for tracers without a curated list (autotracing, new tracers). */
function generic(data: TracerData): Part[] {
  return Object.entries(data)
    .filter(([, v]) => ["string", "number", "boolean", "bigint"].includes(typeof v) && String(v).length <= 40)
    .slice(0, 4)
    .map(([k]) => field(k));
}

function scalar(v: unknown): string {
  if (typeof v === "string") return /\s/.test(v) ? JSON.stringify(v) : v;
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}
