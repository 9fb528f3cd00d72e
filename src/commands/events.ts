// `huatuo-bamai events`: read stored events (list, show) and follow a running agent's watch stream (tail).
import { Command, Option } from "commander";
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { ConfigError, loadConfigFile } from "../config/load";
import { defaultConfig } from "../config/schema";
import { toJson } from "../storage/document";
import { parseQuery, regexFlag, type QueryFlags } from "./events/query";
import { findDocument, listDocuments } from "./events/read";
import { makeChalk, renderTable } from "./events/format";
import { runTail } from "./events/tail";
import { UsageError } from "./run";

interface StorageFlags {
  path?: string;
  config?: string;
}

interface ListFlags extends StorageFlags, QueryFlags {
  json?: boolean;
  output: string;
}

interface TailFlags extends QueryFlags {
  server: string;
  json?: boolean;
  output: string;
}

const DEFAULT_SERVER = "http://127.0.0.1:19704";

/** --path, else Storage.LocalFile.Path of --config (or of ./huatuo-bamai.conf when present), else the default. */
function storageDir(flags: StorageFlags): string {
  if (flags.path) return resolve(flags.path);
  const file = flags.config ?? (existsSync("huatuo-bamai.conf") ? "huatuo-bamai.conf" : undefined);
  const path = file ? loadConfigFile(resolve(file)).Storage.LocalFile.Path : defaultConfig().Storage.LocalFile.Path;
  if (!path) throw new UsageError(`Storage.LocalFile.Path is empty in ${file}: local storage is off; use --path`);
  return resolve(path);
}

function existingDir(dir: string): string {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(`no local event storage at ${dir} (nothing stored yet, or see Storage.LocalFile.Path and --path)`);
  }
  return dir;
}

function outputFormat(flags: { json?: boolean; output: string }, allowed: string[]): string {
  if (flags.json) return "json";
  if (!allowed.includes(flags.output)) {
    throw new UsageError(`--output: want ${allowed.join(" or ")}, got ${JSON.stringify(flags.output)}`);
  }
  return flags.output;
}

async function runList(flags: ListFlags): Promise<number> {
  const format = outputFormat(flags, ["table", "json"]);
  const query = parseQuery(flags);
  const dir = existingDir(storageDir(flags));
  const { docs, malformed } = await listDocuments(dir, query);
  if (format === "json") write(docs.map((d) => toJson(d) + "\n").join(""));
  else write(docs.length === 0 ? "no events\n" : renderTable(docs, makeChalk()) + "\n");
  if (malformed > 0) process.stderr.write(`huatuo-bamai: skipped ${malformed} lines that are not JSON documents\n`);
  return 0;
}

async function runShow(tracerId: string, flags: StorageFlags): Promise<number> {
  if (!/^[\w-]{1,64}$/.test(tracerId)) throw new UsageError(`tracer_id: want up to 64 letters, digits, _ or -, got ${JSON.stringify(tracerId)}`);
  const dir = existingDir(storageDir(flags));
  const doc = await findDocument(dir, tracerId);
  if (!doc) throw new Error(`no event with tracer_id ${tracerId} in ${dir}`);
  write(toJson(doc, 2) + "\n");
  return 0;
}

async function runTailCommand(flags: TailFlags): Promise<number> {
  const json = outputFormat(flags, ["line", "json"]) === "json";
  if (!/^https?:\/\/[^/]+/.test(flags.server)) throw new UsageError(`--server: want http://host:port, got ${JSON.stringify(flags.server)}`);
  const serverFilters: Record<string, string | undefined> = {
    tracer_name: flags.tracer,
    hostname: flags.hostname,
    container_host_namespace: flags.namespace,
    region: flags.region,
  };
  for (const [key, value] of Object.entries(serverFilters)) regexFlag(`--${key}`, value);
  const filters = Object.fromEntries(Object.entries(serverFilters).filter(([, v]) => v)) as Record<string, string>;
  const stop = new AbortController();
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.once(signal, () => stop.abort());
  return runTail({
    server: flags.server,
    filters,
    container: regexFlag("--container", flags.container),
    json,
    chalk: makeChalk(),
    signal: stop.signal,
    out: (line) => write(line + "\n"),
    err: (line) => process.stderr.write(line + "\n"),
  });
}

function write(text: string): void {
  process.stdout.write(text);
}

/** A usage error exits 2, anything else 1, each as one line. */
function action<A extends unknown[]>(onExit: (code: number) => void, name: string, run: (...args: A) => Promise<number>) {
  return async (...args: A) => {
    try {
      onExit(await run(...args));
    } catch (err) {
      const text = err instanceof ConfigError || err instanceof Error ? err.message : String(err);
      process.stderr.write(`huatuo-bamai: events ${name}: ${text}\n`);
      onExit(err instanceof UsageError || err instanceof ConfigError ? 2 : 1);
    }
  };
}

function withQueryFlags(cmd: Command, what: "list" | "tail"): Command {
  cmd
    .option("--tracer <regex>", "tracer_name matches this regular expression (e.g. ^oom$, netdev)")
    .option("--container <regex>", "container_id or container_hostname matches")
    .option("--namespace <regex>", "container_host_namespace matches");
  if (what === "tail") return cmd.option("--hostname <regex>", "hostname matches").option("--region <regex>", "region matches");
  return cmd
    .option("--since <time>", "only events at or after: ISO time or a duration ago (30m, 2h, 7d)")
    .option("--until <time>", "only events at or before: ISO time or a duration ago")
    .option("--limit <n>", "only the newest n events");
}

export function eventsCommand(onExit: (code: number) => void): Command {
  const events = new Command("events").description("list stored events, show one, or follow the live watch stream");
  const storage = (cmd: Command) =>
    cmd
      .option("--path <dir>", "local storage directory (default: Storage.LocalFile.Path of the config)")
      .option("--config <file>", "config file to read Storage.LocalFile.Path from (default ./huatuo-bamai.conf if present)");
  const list = withQueryFlags(storage(events.command("list").alias("dump")), "list")
    .description("list stored events from local files, rotated ones included, oldest first")
    .option("--json", "one JSON document per line (same as --output json)")
    .addOption(new Option("--output <format>", "table or json").default("table"))
    .action(action(onExit, "list", (flags: ListFlags) => runList(flags)));
  const show = storage(events.command("show").argument("<tracer_id>", "the event's tracer_id"))
    .description("print one whole stored event")
    .action(action(onExit, "show", (id: string, flags: StorageFlags) => runShow(id, flags)));
  const tail = withQueryFlags(events.command("tail"), "tail")
    .description("follow a running agent's /v1/events/watch stream; Ctrl-C to stop")
    .option("--server <url>", "the agent's HTTP address", DEFAULT_SERVER)
    .option("--json", "print each CloudEvent as one JSON line (same as --output json)")
    .addOption(new Option("--output <format>", "line or json").default("line"))
    .action(action(onExit, "tail", (flags: TailFlags) => runTailCommand(flags)));
  for (const cmd of [list, show, tail]) cmd.allowExcessArguments(false).exitOverride().showSuggestionAfterError(true);
  return events;
}
