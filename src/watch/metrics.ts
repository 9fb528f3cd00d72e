// Watch stream counters in the agent's self registry: clients, events published and delivered, and events a client's
// connection could not deliver, by reason. Read at scrape time from the hub.
import client from "prom-client";
import type { WatchHub } from "./hub";

export function registerWatchMetrics(registry: client.Registry, hub: WatchHub): void {
  new client.Gauge({
    name: "huatuo_bamai_events_watch_clients",
    help: "Clients connected to POST /v1/events/watch",
    registers: [registry],
    collect() {
      this.set(hub.clients());
    },
  });
  counter(registry, "published", "Events published to the watch stream", () => hub.counters.published);
  counter(registry, "delivered", "Events handed to watch clients' connections", () => hub.counters.delivered);
  new client.Counter({
    name: "huatuo_bamai_events_watch_dropped_total",
    help: "Events a watch connection could not deliver, each counted once, under the reason that first lost it: slow_client (its queue was full), disconnected (queued or still to replay when its connection ended), gap (left the backlog before it resumed); a resume does not count again what its earlier connection counted",
    labelNames: ["reason"],
    registers: [registry],
    collect() {
      this.reset();
      for (const [reason, n] of Object.entries(hub.counters.dropped)) this.inc({ reason }, n);
    },
  });
}

function counter(registry: client.Registry, what: string, help: string, read: () => number): void {
  new client.Counter({
    name: `huatuo_bamai_events_watch_${what}_total`,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}
