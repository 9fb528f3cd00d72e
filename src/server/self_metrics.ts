// The agent's own health: process CPU and memory, and HTTP request counters, in one prom-client registry.
// prom-client's default metrics are not used: its event-loop probes report NaN and bogus minima under Bun.
import client from "prom-client";
import { readdirSync } from "node:fs";

export interface SelfMetrics {
  registry: client.Registry;
  observeRequest(route: string, method: string, status: number, seconds: number): void;
}

export function createSelfMetrics(constLabels: Record<string, string>): SelfMetrics {
  const registry = new client.Registry();
  registry.setDefaultLabels(constLabels);
  registerProcessMetrics(registry);
  const requests = new client.Counter({
    name: "huatuo_http_server_requests_total",
    help: "HTTP requests served, by route, method and status",
    labelNames: ["route", "method", "status"],
    registers: [registry],
  });
  const duration = new client.Histogram({
    name: "huatuo_http_server_request_duration_seconds",
    help: "HTTP request latency, by route and method",
    labelNames: ["route", "method"],
    registers: [registry],
  });
  return {
    registry,
    observeRequest(route, method, status, seconds) {
      requests.inc({ route, method, status: String(status) });
      duration.observe({ route, method }, seconds);
    },
  };
}

// These read the real /proc/self even under --procfs-prefix: they describe this process, not the observed host.
function registerProcessMetrics(registry: client.Registry): void {
  const startSeconds = Math.round(Date.now() / 1000 - process.uptime());
  new client.Counter({
    name: "huatuo_bamai_process_cpu_seconds_total",
    help: "User and system CPU time spent by the agent, in seconds",
    registers: [registry],
    collect() {
      // A counter mirrored from the kernel's running total: reset, then add the whole total.
      const usage = process.cpuUsage();
      this.reset();
      this.inc((usage.user + usage.system) / 1e6);
    },
  });
  new client.Gauge({
    name: "huatuo_bamai_process_resident_memory_bytes",
    help: "Resident memory of the agent, in bytes",
    registers: [registry],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  new client.Gauge({
    name: "huatuo_bamai_process_heap_bytes",
    help: "JavaScript heap in use by the agent, in bytes",
    registers: [registry],
    collect() {
      this.set(process.memoryUsage().heapUsed);
    },
  });
  new client.Gauge({
    name: "huatuo_bamai_process_open_fds",
    help: "File descriptors open in the agent",
    registers: [registry],
    collect() {
      this.set(readdirSync("/proc/self/fd").length);
    },
  });
  new client.Gauge({
    name: "huatuo_bamai_process_start_time_seconds",
    help: "Start time of the agent since the Unix epoch, in seconds",
    registers: [registry],
    collect() {
      this.set(startSeconds);
    },
  });
}
