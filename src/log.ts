// One structured logger: every line is `time level component msg key=value ...` (logfmt), one event per line.
// Diagnostics never carry stack traces for expected conditions; `err` fields render as their message only.
import { appendFileSync, openSync, closeSync } from "node:fs";

export type LogLevel = "debug" | "info" | "warn" | "error" | "panic";
const LEVEL_ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, panic: 50 };

export type LogFields = Record<string, unknown>;

interface Sink {
  write(line: string): void;
}

const stdoutSink: Sink = { write: (line) => process.stdout.write(line) };

let threshold: LogLevel = "info";
let sink: Sink = stdoutSink;

export function parseLogLevel(text: string): LogLevel | undefined {
  const lower = text.toLowerCase();
  return lower in LEVEL_ORDER ? (lower as LogLevel) : undefined;
}

export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

export function getLogLevel(): LogLevel {
  return threshold;
}

/** Send logs to a file (append) instead of stdout. Throws when the file cannot be opened. */
export function setLogFile(path: string): void {
  if (!path) {
    sink = stdoutSink;
    return;
  }
  closeSync(openSync(path, "a", 0o640));
  sink = { write: (line) => appendFileSync(path, line) };
}

/** Route logs to stderr: used by the one-shot subcommands whose stdout carries data. */
export function logToStderr(): void {
  sink = { write: (line) => process.stderr.write(line) };
}

function formatValue(value: unknown): string {
  if (value instanceof Error) return quote(value.message);
  if (typeof value === "string") return quote(value);
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (value === undefined || value === null) return '""';
  return quote(JSON.stringify(value));
}

function quote(text: string): string {
  return /^[A-Za-z0-9_.:/@+\-]+$/.test(text) ? text : JSON.stringify(text);
}

export function formatLine(level: LogLevel, component: string, msg: string, fields: LogFields): string {
  let line = `time=${new Date().toISOString()} level=${level} component=${component} msg=${quote(msg)}`;
  for (const [key, value] of Object.entries(fields)) line += ` ${key}=${formatValue(value)}`;
  return line + "\n";
}

export class Logger {
  constructor(
    readonly component: string,
    private readonly base: LogFields = {},
  ) {}

  child(component: string, fields: LogFields = {}): Logger {
    return new Logger(component, { ...this.base, ...fields });
  }

  debug(msg: string, fields: LogFields = {}): void {
    this.log("debug", msg, fields);
  }
  info(msg: string, fields: LogFields = {}): void {
    this.log("info", msg, fields);
  }
  warn(msg: string, fields: LogFields = {}): void {
    this.log("warn", msg, fields);
  }
  error(msg: string, fields: LogFields = {}): void {
    this.log("error", msg, fields);
  }

  enabled(level: LogLevel): boolean {
    return LEVEL_ORDER[level] >= LEVEL_ORDER[threshold];
  }

  private log(level: LogLevel, msg: string, fields: LogFields): void {
    if (!this.enabled(level)) return;
    sink.write(formatLine(level, this.component, msg, { ...this.base, ...fields }));
  }
}

export const rootLogger = new Logger("main");
