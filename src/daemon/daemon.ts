// The `run` daemon: ordered startup with a cleanup stack, signal handling, SIGHUP reload, bounded shutdown.
import { hostname as osHostname } from "node:os";
import { configureBpf } from "../bpf/loader";
import type { Config } from "../config/schema";
import { ConfigStore } from "../config/store";
import { TracerManager } from "../framework/manager";
import "../framework/catalog";
import { Logger, parseLogLevel, setLogFile, setLogLevel } from "../log";
import { startPodDiscovery } from "../pod/discovery";
import { registerContainerRoutes } from "../server/containers";
import { HttpServer } from "../server/http";
import { registerCoreRoutes } from "../server/routes";
import { createSelfMetrics } from "../server/self_metrics";
import { statusFields } from "../server/tracer_report";
import { registerWatchRoute } from "../server/watch";
import { backendsFromConfig } from "../storage/from_config";
import { registerStorageMetrics } from "../storage/metrics";
import { DocumentSink } from "../storage/sink";
import { WatchHub } from "../watch/hub";
import { registerWatchMetrics } from "../watch/metrics";
import { CleanupStack } from "./cleanup";
import { notifyReady } from "./notify";
import { PidFile } from "./pidfile";
import { RuntimeCgroup } from "./runtime_cgroup";
import { scheduleStartupPageRelease } from "./startup_pages";

export interface DaemonOptions {
  config: Config;
  /** Re-reads and validates the config file (SIGHUP); throws a one-line error when invalid. */
  reloadConfig: () => Config;
  region: string;
  pidFile: string;
  dryRun: boolean;
  logDebug: boolean;
  /** --disable-kubelet: no pod discovery, so no container series. */
  disableKubelet: boolean;
  /** --disable-storage: no local files, no Elasticsearch; events still reach watch clients. */
  disableStorage: boolean;
  /** --enable-cgroup: run inside the [RuntimeCgroup] limits. */
  enableCgroup: boolean;
}

const SHUTDOWN_DEADLINE_MS = 10_000;
const COLLECTOR_TIMEOUT_MS = 5_000;
const DRY_RUN_MS = 2_000;
/** Long enough for tracers to attach, detectors to take their first samples and a first scrape to be served. */
const SETTLE_MS = 30_000;

/** Start everything, serve until a stop signal, shut down in reverse. Returns the process exit code. */
export async function runDaemon(opts: DaemonOptions, log: Logger): Promise<number> {
  const cleanup = new CleanupStack();
  try {
    await start(opts, log, cleanup);
  } catch (err) {
    log.error("startup failed", { err });
    await cleanup.unwind(log, SHUTDOWN_DEADLINE_MS);
    return 1;
  }
  log.info("huatuo-bamai started", { region: opts.region, pid: process.pid });
  notifyReady(log);
  const settled = scheduleStartupPageRelease(log.child("memory"), SETTLE_MS);
  const reason = await waitForStop(opts, log);
  log.info("shutting down", { reason });
  clearTimeout(settled);
  await cleanup.unwind(log, SHUTDOWN_DEADLINE_MS);
  log.info("stopped");
  return 0;
}

async function start(opts: DaemonOptions, log: Logger, cleanup: CleanupStack): Promise<void> {
  const pid = PidFile.acquire(opts.pidFile);
  cleanup.push("pidfile", () => pid.release());
  const runtimeCgroup = startRuntimeCgroup(opts, log, cleanup);

  const store = new ConfigStore(opts.config);
  watchReload(store, opts, log);
  const baseLabels = { host: osHostname(), region: opts.region };
  const pods = startPodDiscovery(opts.config.Pod, opts.disableKubelet, baseLabels.host, log.child("pod"));
  cleanup.push("pod", () => pods.stop());
  const { sink, hub } = startEvents(opts, baseLabels.host, log, cleanup, (name) => manager.countEvent(name));
  // before any tracer loads: kernels without /sys/kernel/btf/vmlinux use the configured BTF file for CO-RE
  configureBpf({ btfPath: opts.config.BtfPath });
  const manager = new TracerManager(
    { config: store, log, containers: pods, region: opts.region, hostname: baseLabels.host, events: sink },
    log,
  );
  await manager.createAll(new Set(opts.config.BlackList));
  for (const status of manager.statuses()) log.info("tracer", statusFields(status));
  manager.startLoops();
  cleanup.push("tracers", () => manager.close(SHUTDOWN_DEADLINE_MS / 2));

  const selfMetrics = createSelfMetrics(baseLabels);
  registerStorageMetrics(selfMetrics.registry, sink.backends);
  registerWatchMetrics(selfMetrics.registry, hub);
  const http = new HttpServer({
    listenAddress: opts.config.HTTPServer.ListenAddress,
    requestsPerSecond: opts.config.HTTPServer.RequestsPerSecond,
    maxBodyBytes: opts.config.HTTPServer.MaxBodyBytes,
    log: log.child("http"),
    metrics: selfMetrics,
  });
  registerCoreRoutes(http, { manager, selfMetrics, baseLabels, collectorTimeoutMs: COLLECTOR_TIMEOUT_MS });
  registerContainerRoutes(http, pods);
  registerWatchRoute(http, { hub, limits: () => watchLimits(store.get()), log: log.child("watch") });
  const bound = http.listen();
  cleanup.push("http", () => http.stop());
  // Unwound before "http": watch streams end cleanly instead of being cut by the server's stop.
  cleanup.push("watch", () => hub.close());
  log.info("http server listening", { address: `${bound.hostname}:${bound.port}` });
  runtimeCgroup?.raiseCpu();
}

/**
 * The `storage` step, before tracers exist: the watch hub and the fan-out to the configured backends. Neither
 * waits for a backend: an unreachable Elasticsearch only means a backlog. Closed after the tracers, so their last
 * documents are written.
 */
function startEvents(
  opts: DaemonOptions,
  hostname: string,
  log: Logger,
  cleanup: CleanupStack,
  onSaved: (tracer: string) => void,
): { sink: DocumentSink; hub: WatchHub } {
  const watch = opts.config.EventsWatch;
  const hub = new WatchHub({ hostname, backlogSize: watch.BacklogSize, clientQueueSize: watch.ClientQueueSize });
  const backends = opts.disableStorage ? [] : backendsFromConfig(opts.config.Storage, log);
  const origin = { hostname, region: opts.region };
  const sink = new DocumentSink({ origin, backends, publisher: hub, onSaved, log: log.child("storage") });
  log.info("storage", { backends: backends.map((b) => b.name).join(",") || "none", disabled: opts.disableStorage });
  cleanup.push("storage", () => sink.close(SHUTDOWN_DEADLINE_MS / 2));
  return { sink, hub };
}

/** Read per watch request, so MaxClients and KeepAliveInterval follow a SIGHUP reload. */
function watchLimits(config: Config): { maxClients: number; keepAliveMs: number } {
  return { maxClients: config.EventsWatch.MaxClients, keepAliveMs: config.EventsWatch.KeepAliveInterval * 1000 };
}

/** The `cgroup` step: only with --enable-cgroup; a failure aborts startup like any other step. */
function startRuntimeCgroup(opts: DaemonOptions, log: Logger, cleanup: CleanupStack): RuntimeCgroup | undefined {
  if (!opts.enableCgroup) {
    log.info("runtime cgroup limits off (enable with --enable-cgroup)");
    return undefined;
  }
  const rc = RuntimeCgroup.create(opts.config.RuntimeCgroup, log.child("cgroup"));
  cleanup.push("cgroup", () => rc.remove());
  return rc;
}

/** SIGHUP re-reads the config file; only what is safe to change live (log level, collector filters, thresholds) applies. */
function watchReload(store: ConfigStore, opts: DaemonOptions, log: Logger): void {
  process.on("SIGHUP", () => {
    try {
      const next = opts.reloadConfig();
      if (next.Log.File !== store.get().Log.File) setLogFile(next.Log.File);
      store.set(next);
      if (!opts.logDebug) setLogLevel(parseLogLevel(next.Log.Level) ?? "info");
      log.info("config reloaded");
    } catch (err) {
      log.error("config reload rejected, keeping the running config", { err });
    }
  });
  store.onChange((next, prev) => {
    for (const key of ["BlackList", "BtfPath", "HTTPServer", "Storage", "Pod", "RuntimeCgroup"] as const) {
      if (JSON.stringify(next[key]) !== JSON.stringify(prev[key])) log.warn("config change needs a restart", { key });
    }
  });
}

function waitForStop(opts: DaemonOptions, log: Logger): Promise<string> {
  return new Promise((resolve) => {
    const stop = (reason: string) => resolve(reason);
    process.once("SIGTERM", () => stop("SIGTERM"));
    process.once("SIGINT", () => stop("SIGINT"));
    if (opts.dryRun) {
      log.info("dry run: stopping after startup", { after_ms: DRY_RUN_MS });
      setTimeout(() => stop("dry-run"), DRY_RUN_MS);
    }
  });
}
