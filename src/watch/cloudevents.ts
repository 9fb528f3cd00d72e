// Watch stream messages: each document as a CloudEvents 1.0 JSON event (user guide 6.3) in one SSE message with an
// `id:`, and the stream's own notices (gap, dropped) as CloudEvents of their own type under an SSE `event:` name.
import { toJson, type Document } from "../storage/document";
import { parseTracerTime, toUtcRfc3339 } from "../storage/time";

export const EVENT_TYPE = "tech.huatuo.kernel.event";

/**
 * The seed's WatchEventData, plus `tracer_data`: the seed calls `data` "the standard HUATUO event record", and a
 * consumer acting on an OOM needs the victim, not only the tracer name. `observed_timestamp` is RFC 3339 UTC as the
 * seed shows, with the tracer_time's milliseconds; `tracer_run_type` is the seed's `auto` or `manual`.
 */
export function watchEventData(doc: Document): Record<string, unknown> {
  return {
    hostname: doc.hostname,
    region: doc.region,
    observed_timestamp: observedTimestamp(doc),
    tracer_name: doc.tracer_name,
    tracer_id: doc.tracer_id,
    tracer_run_type: doc.tracer_type === "manual" ? "manual" : "auto",
    ...(doc.container_id !== undefined && {
      container_id: doc.container_id,
      container_hostname: doc.container_hostname,
      container_host_namespace: doc.container_host_namespace,
      container_type: doc.container_type,
      container_qos: doc.container_qos,
    }),
    tracer_data: doc.tracer_data,
  };
}

function observedTimestamp(doc: Document): string {
  const ms = parseTracerTime(doc.tracer_time);
  return Number.isNaN(ms) ? doc.tracer_time : new Date(ms).toISOString();
}

/** The CloudEvent of one document; `id` is a fresh UUID v4 per event, shared by every subscriber and replay. */
export function cloudEvent(doc: Document): Record<string, unknown> {
  return {
    specversion: "1.0",
    id: crypto.randomUUID(),
    source: `/huatuo/${doc.hostname}/${doc.tracer_name}`,
    type: EVENT_TYPE,
    datacontenttype: "application/json",
    time: toUtcRfc3339(doc.uploaded_time),
    data: watchEventData(doc),
  };
}

/** `id: <seq>` lets a reconnecting client send Last-Event-ID; one `data:` line holds the whole event. */
export function eventFrame(seq: number, doc: Document): string {
  return `id: ${seq}\ndata: ${toJson(cloudEvent(doc))}\n\n`;
}

export type NoticeKind = "gap" | "dropped";

/**
 * A notice about the stream itself. It has no `id:`, so the client's Last-Event-ID stays on the last real event.
 * gap: events a reconnecting client missed that the backlog no longer holds; dropped: events not sent to this
 * client because it read too slowly (they may still be in the backlog: reconnect with Last-Event-ID = first_id - 1).
 */
export function noticeFrame(kind: NoticeKind, hostname: string, data: Record<string, unknown>): string {
  const event = {
    specversion: "1.0",
    id: crypto.randomUUID(),
    source: `/huatuo/${hostname}/events_watch`,
    type: `tech.huatuo.watch.${kind}`,
    datacontenttype: "application/json",
    time: new Date().toISOString(),
    data,
  };
  return `event: ${kind}\ndata: ${JSON.stringify(event)}\n\n`;
}

export const PING = ": ping\n";
