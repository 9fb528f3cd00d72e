// Loads huatuo-bamai.conf: TOML → typed Config, every fault reported as one line naming file, line and key.
import { readFileSync } from "node:fs";
import TOML from "@iarna/toml";
import type { Issue } from "./dsl";
import { lineOf, scanKeyLines, type KeyLines } from "./lines";
import { configSchema, type Config } from "./schema";
import { decodeSection } from "./walk";

export interface ConfigProblem {
  file: string;
  line?: number;
  /** Dotted key path, absent for file-level faults (unreadable, syntax). */
  key?: string;
  /** The whole one-line report: `file:line: key: what is wrong`. */
  text: string;
}

/** A config file that cannot be used. `message` is the first problem; `problems` holds all of them. */
export class ConfigError extends Error {
  override name = "ConfigError";
  readonly problems: readonly ConfigProblem[];

  constructor(problems: ConfigProblem[]) {
    super(problems[0]?.text ?? "invalid configuration");
    this.problems = problems;
  }
}

export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new ConfigError([{ file: path, text: `${path}: cannot read: ${readFailure(e)}` }]);
  }
  return parseConfigText(text, path);
}

function readFailure(e: unknown): string {
  const { code, message } = e as NodeJS.ErrnoException;
  const known: Record<string, string> = {
    ENOENT: "no such file",
    EACCES: "permission denied",
    EISDIR: "is a directory",
  };
  return (code && known[code]) ?? message;
}

export function parseConfigText(text: string, file: string): Config {
  const raw = parseToml(text, file);
  const issues: Issue[] = [];
  const config = decodeSection(configSchema, raw, "", issues);
  if (issues.length > 0 || config === undefined) {
    const lines = scanKeyLines(text);
    throw new ConfigError(issues.map((issue) => toProblem(issue, file, lines)));
  }
  return config;
}

function parseToml(text: string, file: string): unknown {
  try {
    return TOML.parse(text);
  } catch (e) {
    const err = e as Error & { line?: number; col?: number };
    // @iarna/toml counts lines and columns from 0 and appends a multi-line excerpt we do not want.
    const line = typeof err.line === "number" ? err.line + 1 : undefined;
    const what = err.message.split("\n")[0]!.replace(/ at row \d+, col \d+, pos \d+:?$/, "");
    const where = line === undefined ? file : `${file}:${line}`;
    const col = typeof err.col === "number" ? ` (column ${err.col + 1})` : "";
    throw new ConfigError([{ file, line, text: `${where}: TOML syntax error: ${what}${col}` }]);
  }
}

function toProblem(issue: Issue, file: string, lines: KeyLines): ConfigProblem {
  const line = lineOf(lines, issue.path);
  const where = line === undefined ? file : `${file}:${line}`;
  const text = issue.unknown ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`;
  return { file, line, key: issue.path, text };
}

/**
 * `config` with `names` added to BlackList (for --disable-tracing): values may be comma-separated,
 * blanks and duplicates are dropped. The input is left untouched.
 */
export function mergeBlackList(config: Config, names: readonly string[]): Config {
  const extra = names.flatMap((n) => n.split(",")).map((n) => n.trim());
  const BlackList = [...new Set([...config.BlackList, ...extra.filter((n) => n !== "")])];
  return { ...config, BlackList };
}
