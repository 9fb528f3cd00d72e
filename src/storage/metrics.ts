// Storage counters in the agent's self registry: what each backend stored, retried, dropped or had rejected, and
// how many documents wait in its backlog. Read at scrape time from the backends' own counters.
import client from "prom-client";
import type { StorageBackend, StorageResult } from "./backend";

export function registerStorageMetrics(registry: client.Registry, backends: readonly StorageBackend[]): void {
  new client.Counter({
    name: "huatuo_bamai_storage_documents_total",
    help: "Event documents per storage backend and result: stored, retried (each resend), dropped, rejected",
    labelNames: ["backend", "result"],
    registers: [registry],
    collect() {
      this.reset();
      for (const b of backends) {
        for (const [result, n] of Object.entries(b.counts)) this.inc({ backend: b.name, result: result as StorageResult }, n);
      }
    },
  });
  new client.Gauge({
    name: "huatuo_bamai_storage_backlog_documents",
    help: "Event documents accepted by a storage backend and not yet stored",
    labelNames: ["backend"],
    registers: [registry],
    collect() {
      for (const b of backends) this.set({ backend: b.name }, b.backlog());
    },
  });
}
