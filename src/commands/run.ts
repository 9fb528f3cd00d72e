// `huatuo-bamai run`: parse the daemon's flags, load and validate the config, set up logging, start the daemon.
import { Command, Option } from "commander";
import { isAbsolute, join, resolve } from "node:path";
import { ConfigError, loadConfigFile, mergeBlackList } from "../config/load";
import type { Config } from "../config/schema";
import { runDaemon } from "../daemon/daemon";
import { DEFAULT_PIDFILE } from "../daemon/pidfile";
import { Logger, parseLogLevel, setLogFile, setLogLevel } from "../log";
import { setRootPrefix } from "../procfs/root";

export interface RunOptions {
  config: string;
  configDir?: string;
  region: string;
  disableKubelet: boolean;
  enableCgroup: boolean;
  disableStorage: boolean;
  disableTracing: string[];
  logDebug: boolean;
  dryRun: boolean;
  procfsPrefix?: string;
  pidFile: string;
}

/** Thrown for bad input: the message is the whole one-line explanation, the exit code is 2. */
export class UsageError extends Error {}

export function resolveConfigPath(config: string, configDir?: string): string {
  if (isAbsolute(config) || !configDir) return resolve(config);
  return resolve(join(configDir, config));
}

function loadConfig(opts: RunOptions): Config {
  const path = resolveConfigPath(opts.config, opts.configDir);
  return mergeBlackList(loadConfigFile(path), opts.disableTracing);
}

function configureLogging(config: Config, opts: RunOptions): void {
  const level = opts.logDebug ? "debug" : parseLogLevel(config.Log.Level);
  if (!level) throw new UsageError(`Log.Level: unknown level ${JSON.stringify(config.Log.Level)}`);
  setLogLevel(level);
  try {
    setLogFile(config.Log.File);
  } catch (err) {
    throw new UsageError(`Log.File: cannot open ${config.Log.File}: ${(err as Error).message}`);
  }
}

export async function runRun(opts: RunOptions): Promise<number> {
  let config: Config;
  try {
    if (!opts.region) throw new UsageError("required option '--region <region>' not specified");
    config = loadConfig(opts);
    configureLogging(config, opts);
  } catch (err) {
    if (err instanceof ConfigError || err instanceof UsageError) {
      process.stderr.write(`huatuo-bamai: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (opts.procfsPrefix) setRootPrefix(resolve(opts.procfsPrefix));
  const log = new Logger("daemon");
  return runDaemon(
    {
      config,
      reloadConfig: () => loadConfig(opts),
      region: opts.region,
      pidFile: opts.pidFile,
      dryRun: opts.dryRun,
      logDebug: opts.logDebug,
      disableKubelet: opts.disableKubelet,
      disableStorage: opts.disableStorage,
      enableCgroup: opts.enableCgroup,
    },
    log,
  );
}

function splitNames(value: string, previous: string[]): string[] {
  return [...previous, ...value.split(",").map((s) => s.trim()).filter(Boolean)];
}

export function runCommand(onExit: (code: number) => void): Command {
  return new Command("run")
    .description("run the agent: metrics on /metrics, kernel events, autotracing, the watch stream")
    .option("--config <file>", "config file name (joined under --config-dir when that is given)", "huatuo-bamai.conf")
    .option("--config-dir <dir>", "directory holding the config file")
    // Checked in runRun, not with requiredOption: commander would report it before an unknown flag's suggestion.
    .option("--region <region>", "required: value of the region label on every metric and event")
    .option("--disable-kubelet", "do not fetch pods from kubelet (bare metal, tests)", false)
    .option("--enable-cgroup", "run inside a huatuo-bamai cgroup with the [RuntimeCgroup] CPU and memory limits", false)
    .option("--disable-storage", "do not store events (local files, Elasticsearch)", false)
    .option("--disable-tracing <names>", "tracers to disable, comma-separated, repeatable; merged with BlackList", splitNames, [])
    .option("--log-debug", "log at debug level, overriding Log.Level", false)
    .option("--dry-run", "start everything, then shut down cleanly after 2 s", false)
    .option("--procfs-prefix <dir>", "read /proc, /sys and /dev under this directory (fixtures)")
    .addOption(new Option("--pid-file <path>", "pidfile held locked while running").default(DEFAULT_PIDFILE))
    .allowExcessArguments(false)
    .action(async (opts: RunOptions) => onExit(await runRun(opts)));
}
