// netstat: TCP counters of a network namespace as `<Proto>_<Field>` gauges: `Tcp` from /proc/<pid>/net/snmp,
// `TcpExt` from /proc/<pid>/net/netstat (pid 1 = the host namespace, a Normal container's init pid for its own),
// filtered by [MetricCollector.Netstat].
import { registerTracer } from "../framework/registry";
import type { Emitter, MetricCollector, TracerContext } from "../framework/types";
import { procPath, readTextSync } from "../procfs/root";
import { normalContainers, readEachNetns } from "./containers";
import { passesFilter } from "./filter";

/** The protocols exported, as the original: the other sections (Ip, Icmp, Udp, IpExt, MPTcpExt) are skipped. */
const PROTOCOLS = new Set(["Tcp", "TcpExt"]);

interface SnmpPair {
  /** The section name without its colon. */
  proto: string;
  /** The names line as printed, the same in every namespace of this kernel. */
  header: string;
  names: string[];
  values: string[];
}

/**
 * The `Proto: Name1 Name2 ...` / `Proto: v1 v2 ...` line pairs of net/snmp or net/netstat, checked; with `wanted`,
 * only those sections are split (a namespace's files are mostly sections nobody exports).
 */
function snmpPairs(text: string, wanted?: ReadonlySet<string>): SnmpPair[] {
  const pairs: SnmpPair[] = [];
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  for (let i = 0; i + 1 < lines.length; i += 2) {
    const header = lines[i]!.trim();
    if (wanted && !wanted.has(header.slice(0, header.indexOf(":")))) continue;
    const [proto = "", ...names] = header.split(/\s+/);
    const [valueProto, ...values] = lines[i + 1]!.trim().split(/\s+/);
    if (!proto.endsWith(":") || valueProto !== proto || names.length !== values.length) {
      throw new Error(`netstat: malformed section ${JSON.stringify(proto)} at line ${i + 1}`);
    }
    pairs.push({ proto: proto.slice(0, -1), header, names, values });
  }
  return pairs;
}

/**
 * Parses the paired-line format of net/snmp and net/netstat: a `Proto: Name1 Name2 ...` line followed by
 * `Proto: v1 v2 ...`. Returns every section; values may be negative (Tcp MaxConn is -1).
 */
export function parseSnmpPairs(text: string): Map<string, Map<string, number>> {
  const sections = new Map<string, Map<string, number>>();
  for (const { proto, names, values } of snmpPairs(text)) {
    // IcmpMsg repeats its pair every 16 fields, so a section may span several pairs.
    const section = sections.get(proto) ?? new Map<string, number>();
    names.forEach((name, j) => section.set(name, Number(values[j])));
    sections.set(proto, section);
  }
  return sections;
}

/** `<Proto>_<Field>` names per header line: every namespace prints the same lines, so each is worked out once. */
const namesOfHeader = new Map<string, string[]>();

function seriesNames({ proto, header, names }: SnmpPair): string[] {
  let keys = namesOfHeader.get(header);
  if (!keys) namesOfHeader.set(header, (keys = names.map((name) => `${proto}_${name}`)));
  return keys;
}

/** The `<Proto>_<Field>` values of a namespace, from both files. */
export async function readNetstat(pid: number): Promise<Map<string, number>> {
  const texts = [readTextSync(procPath(String(pid), "net", "netstat")), readTextSync(procPath(String(pid), "net", "snmp"))];
  const values = new Map<string, number>();
  for (const pair of texts.flatMap((text) => snmpPairs(text, PROTOCOLS))) {
    const names = seriesNames(pair);
    for (let j = 0; j < names.length; j++) values.set(names[j]!, Number(pair.values[j]));
  }
  return values;
}

/** A namespace's series after the filter, with their help: built once, shared by every container of the pod. */
type Series = Array<[name: string, help: string, value: number]>;

/** Help text per series name (a fixed set of kernel counters). */
const helps = new Map<string, string>();

function helpOf(name: string): string {
  let help = helps.get(name);
  if (help === undefined) helps.set(name, (help = `statistic ${name.replace("_", "")}.`));
  return help;
}

function netstatSeries(values: Map<string, number>, included: string, excluded: string): Series {
  const series: Series = [];
  for (const [name, value] of values) {
    if (passesFilter(name, included, excluded)) series.push([name, helpOf(name), value]);
  }
  return series;
}

function emitNetstat(emit: Emitter, series: Series): void {
  for (const [name, help, value] of series) emit.gauge(name, help, value);
}

class NetstatCollector implements MetricCollector {
  constructor(private readonly ctx: TracerContext) {}

  async collect(emit: Emitter): Promise<void> {
    const { Included, Excluded } = this.ctx.config.get().MetricCollector.Netstat;
    const read = async (pid: number) => netstatSeries(await readNetstat(pid), Included, Excluded);
    emitNetstat(emit, await read(1));
    for (const [c, series] of await readEachNetns(normalContainers(this.ctx), read)) emitNetstat(emit.forContainer(c), series);
  }
}

registerTracer({
  name: "netstat",
  kind: "metric",
  description: "TCP and TcpExt counters from /proc/1/net/snmp and /proc/1/net/netstat",
  create: (ctx) => ({ hook: "procfs", collector: new NetstatCollector(ctx) }),
});
