// Test helpers for storage: documents of a known size and a logger that records what it would print.
import { Logger, type LogFields } from "../log";
import { buildDocument, type Document } from "./document";

export function makeDoc(tracerName = "oom", n = 0, pad = 0): Document {
  return buildDocument({ hostname: "node-1", region: "dev" }, { tracerName, data: { n, pad: "x".repeat(pad) } });
}

export interface LoggedLine {
  level: string;
  msg: string;
  fields: LogFields;
}

/** A Logger that keeps its lines in memory instead of writing them. */
export class MemoryLogger extends Logger {
  readonly lines: LoggedLine[] = [];

  constructor() {
    super("test");
  }

  override child(): Logger {
    return this;
  }
  override debug(): void {}
  override info(msg: string, fields: LogFields = {}): void {
    this.lines.push({ level: "info", msg, fields });
  }
  override warn(msg: string, fields: LogFields = {}): void {
    this.lines.push({ level: "warn", msg, fields });
  }
  override error(msg: string, fields: LogFields = {}): void {
    this.lines.push({ level: "error", msg, fields });
  }
}
