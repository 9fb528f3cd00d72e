// Reads the agent's local storage back: every tracer's rotated files (oldest first) then its current file, one JSON
// document per line, streamed so a 100 MB file never sits in memory whole.
import { createReadStream, existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseJson, type Document } from "../../storage/document";
import { listRotated, listTracers } from "../../storage/rotate";
import { eventTime, matchesQuery, type EventQuery } from "./query";

export interface ReadResult {
  docs: Document[];
  /** Lines that were not a JSON document (a torn write by another tool, an old format). */
  malformed: number;
}

/** A tracer's files in write order; rotated files last written before `since` cannot hold a match and are skipped. */
export function tracerFiles(dir: string, tracer: string, since?: number): string[] {
  const rotated = listRotated(dir, tracer).filter((f) => since === undefined || statSync(join(dir, f)).mtimeMs >= since);
  const files = [...rotated, tracer].map((f) => join(dir, f));
  return files.filter((f) => existsSync(f) && statSync(f).isFile());
}

export async function* readLines(path: string): AsyncGenerator<string> {
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8" }), crlfDelay: Infinity });
  for await (const line of lines) if (line.trim() !== "") yield line;
}

function parseDocument(line: string): Document | undefined {
  try {
    const doc = parseJson(line) as Document;
    return typeof doc === "object" && doc !== null && typeof doc.tracer_name === "string" ? doc : undefined;
  } catch {
    return undefined;
  }
}

/** Documents matching `q`, oldest first; with a limit, the newest `limit` of them. */
export async function listDocuments(dir: string, q: EventQuery): Promise<ReadResult> {
  let malformed = 0;
  const all: Document[] = [];
  for (const tracer of listTracers(dir).filter((t) => !q.tracer || q.tracer.test(t))) {
    // Each tracer keeps at most `limit` newest: the overall newest `limit` are among them.
    const kept: Document[] = [];
    for (const file of tracerFiles(dir, tracer, q.since)) {
      for await (const line of readLines(file)) {
        const doc = parseDocument(line);
        if (!doc) malformed++;
        else if (matchesQuery(q, doc)) kept.push(doc);
        if (q.limit !== undefined && kept.length > 2 * q.limit) kept.splice(0, kept.length - q.limit);
      }
    }
    all.push(...kept);
  }
  const sorted = all.map((doc) => ({ doc, t: eventTime(doc) })).sort((a, b) => a.t - b.t);
  const docs = sorted.map((e) => e.doc);
  return { docs: q.limit === undefined ? docs : docs.slice(-q.limit), malformed };
}

/** The one document with this tracer_id, looking at each line's text before parsing it. */
export async function findDocument(dir: string, tracerId: string): Promise<Document | undefined> {
  const needle = `"tracer_id":"${tracerId}"`;
  for (const tracer of listTracers(dir)) {
    for (const file of tracerFiles(dir, tracer)) {
      for await (const line of readLines(file)) {
        if (!line.includes(needle)) continue;
        const doc = parseDocument(line);
        if (doc?.tracer_id === tracerId) return doc;
      }
    }
  }
  return undefined;
}
