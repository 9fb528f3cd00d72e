// `huatuo-bamai trace <name>`: one capture of an autotracing detector, now, without a running daemon. Prints a
// summary (or the document with --output json) to stdout and stores it as tracer_type manual with --save.
import { Command, Option } from "commander";
import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { resolve } from "node:path";
import "../autotracing/index";
import { configureBpf } from "../bpf/loader";
import { ConfigError, loadConfigFile } from "../config/load";
import { defaultConfig, type Config } from "../config/schema";
import { registeredTracers } from "../framework/registry";
import { Logger, logToStderr } from "../log";
import { hostCgroups } from "../pod/cgroup_reader";
import { KubeletClient, kubeletDisabledReason } from "../pod/kubelet";
import { PodManager } from "../pod/manager";
import type { Container } from "../pod/types";
import { buildDocument, toJson, type Document } from "../storage/document";
import { LocalFileStore } from "../storage/local_file";
import { makeChalk } from "./events/format";
import { UsageError } from "./run";
import { CAPTURES } from "./trace_capture";
import { renderResult } from "./trace_render";

export const TRACEABLE = ["cpusys", "cpuidle", "dload", "iotracing", "memburst"] as const;
type Traceable = (typeof TRACEABLE)[number];

export interface TraceOptions {
  list?: boolean;
  duration: string;
  container?: string;
  output: string;
  save?: boolean;
  config?: string;
  region: string;
  top: string;
}

const MAX_DURATION_S = 3600;

function listText(): string {
  const defs = new Map(registeredTracers().map((d) => [d.name, d.description]));
  return TRACEABLE.map((n) => `${n.padEnd(10)} ${defs.get(n) ?? ""}`).join("\n") + "\n";
}

function positive(flag: string, text: string, max: number, integer: boolean): number {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || !(n > 0) || n > max || (integer && !Number.isInteger(n))) {
    throw new UsageError(`${flag}: want a ${integer ? "whole " : ""}number above 0 and at most ${max}, got ${JSON.stringify(text)}`);
  }
  return n;
}

function checkArgs(name: string | undefined, o: TraceOptions): Traceable {
  if (!name) throw new UsageError("missing tracer name: one of " + TRACEABLE.join(", ") + " (see trace --list)");
  if (!(TRACEABLE as readonly string[]).includes(name)) {
    throw new UsageError(`unknown tracer ${JSON.stringify(name)}: want one of ${TRACEABLE.join(", ")}`);
  }
  if (o.output !== "table" && o.output !== "json") throw new UsageError(`--output: want table or json, got ${JSON.stringify(o.output)}`);
  if (name === "cpuidle" && !o.container) throw new UsageError("cpuidle traces one container: give --container <id>");
  if (o.container !== undefined && name !== "cpuidle" && name !== "dload") {
    throw new UsageError(`--container applies to cpuidle and dload, not ${name}`);
  }
  return name as Traceable;
}

/** --config, else ./huatuo-bamai.conf when present, else the defaults. */
function loadConfig(file: string | undefined): Config {
  const path = file ?? (existsSync("huatuo-bamai.conf") ? "huatuo-bamai.conf" : undefined);
  return path ? loadConfigFile(resolve(path)) : defaultConfig();
}

/** One pod sync: the container given by id (a unique prefix will do) or by name. */
async function findContainer(config: Config, wanted: string, log: Logger): Promise<Container> {
  const off = kubeletDisabledReason(config.Pod);
  if (off) throw new UsageError(`--container needs pod discovery, which the config turns off (${off})`);
  const pods = new PodManager({ fetcher: new KubeletClient(config.Pod), layout: hostCgroups().layout, log, nodeHostname: hostname() });
  if (!(await pods.syncOnce())) throw new Error("cannot list containers: the kubelet did not answer (see the log line above)");
  const all = pods.list();
  const exact = all.filter((c) => c.id === wanted || c.name === wanted);
  const matches = exact.length ? exact : all.filter((c) => c.id.startsWith(wanted));
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0) throw new UsageError(`--container: no container ${JSON.stringify(wanted)} among the ${all.length} the kubelet lists`);
  throw new UsageError(`--container: ${JSON.stringify(wanted)} matches ${matches.length} containers; give more of the id`);
}

async function save(config: Config, doc: Document): Promise<string> {
  const local = config.Storage.LocalFile;
  if (!local.Path.trim()) throw new UsageError("--save: Storage.LocalFile.Path is empty in the config, local storage is off");
  const store = new LocalFileStore({
    dir: resolve(local.Path), rotationBytes: local.RotationSize << 20, maxRotation: local.MaxRotation, log: new Logger("storage"),
  });
  store.put(doc, toJson(doc));
  await store.close(5_000);
  if (store.counts.stored !== 1) throw new Error(`--save: could not write ${resolve(local.Path, doc.tracer_name)} (see the log line above)`);
  return resolve(local.Path, doc.tracer_name);
}

export async function runTrace(name: string | undefined, o: TraceOptions): Promise<number> {
  if (o.list) {
    process.stdout.write(listText());
    return 0;
  }
  const tracer = checkArgs(name, o);
  const durationS = positive("--duration", o.duration, MAX_DURATION_S, false);
  const top = positive("--top", o.top, 1000, true);
  const config = loadConfig(o.config);
  logToStderr();
  configureBpf({ btfPath: config.BtfPath });
  const log = new Logger("trace");
  const container = o.container ? await findContainer(config, o.container, log) : undefined;
  const stop = new AbortController();
  const interrupt = () => stop.abort();
  process.once("SIGINT", interrupt);
  const what = tracer === "memburst" ? "taking a memburst snapshot" : `tracing ${tracer} for ${durationS} s (Ctrl-C to stop early)`;
  process.stderr.write(`huatuo-bamai: ${what}\n`);
  const result = await CAPTURES[tracer]({ config, durationS, container, containers: container ? [container] : [], signal: stop.signal });
  process.off("SIGINT", interrupt);
  const doc = buildDocument({ hostname: hostname(), region: o.region }, { tracerName: tracer, tracerType: "manual", data: result.data, container: result.container });
  if (o.output === "json") process.stdout.write(toJson(doc, 2) + "\n");
  else process.stdout.write(renderResult(tracer, result, { chalk: makeChalk(), columns: process.stdout.columns || 120, top }));
  if (o.save) process.stderr.write(`huatuo-bamai: saved as tracer_id ${doc.tracer_id} in ${await save(config, doc)}\n`);
  return 0;
}

export function traceCommand(onExit: (code: number) => void): Command {
  return new Command("trace")
    .description(`capture once, now, without a daemon: ${TRACEABLE.join(", ")}`)
    .argument("[name]", "what to trace (see --list)")
    .option("--list", "list what can be traced")
    .option("--duration <seconds>", "how long to capture", "10")
    .option("--container <id>", "the container (id, unique id prefix or name): required by cpuidle, optional for dload")
    .addOption(new Option("--output <format>", "table or json").default("table"))
    .option("--save", "also store the document (tracer_type manual) in the config's local storage")
    .option("--config <file>", "config file for thresholds, storage and pod discovery (default ./huatuo-bamai.conf if present)")
    .option("--region <region>", "region recorded in the document", "")
    .option("--top <n>", "rows in the table of hottest stacks", "10")
    .allowExcessArguments(false)
    .action(async (name: string | undefined, o: TraceOptions) => {
      try {
        onExit(await runTrace(name, o));
      } catch (err) {
        process.stderr.write(`huatuo-bamai: trace${name ? ` ${name}` : ""}: ${(err as Error).message.split("\n")[0]}\n`);
        onExit(err instanceof UsageError || err instanceof ConfigError ? 2 : 1);
      }
    });
}
