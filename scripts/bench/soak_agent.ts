// The agent under soak: the built binary started and stopped like an operator would, its /metrics and /tracers read
// into numbers, its resident memory and CPU read from /proc, and the lines it stored counted on disk.
import { spawn, type Subprocess } from "bun";
import { closeSync, openSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { listRotated, listTracers } from "../../src/storage/rotate";

export interface AgentOptions {
  binary: string;
  config: string;
  pidFile: string;
  log: string;
  port: number;
}

/** Series keyed `name{labels}` exactly as exposed, without host and region. */
export type Series = Map<string, number>;

const TICKS_PER_S = 100; // USER_HZ

export class Agent {
  proc?: Subprocess;
  execAt = 0;

  constructor(private readonly opts: AgentOptions) {}

  url(path: string): string {
    return `http://127.0.0.1:${this.opts.port}${path}`;
  }

  /** Exec, then wait for the first 200 from /metrics; returns milliseconds from exec to that answer. */
  async start(): Promise<number> {
    const out = openSync(this.opts.log, "a");
    const args = ["run", "--config", this.opts.config, "--region", "soak", "--pid-file", this.opts.pidFile];
    this.execAt = performance.now();
    const proc = spawn([this.opts.binary, ...args], { stdin: "ignore", stdout: out, stderr: out });
    this.proc = proc;
    closeSync(out);
    for (;;) {
      if (proc.exitCode !== null) throw new Error(`agent exited with ${proc.exitCode}; see ${this.opts.log}`);
      if (await this.metricsOk()) return performance.now() - this.execAt;
      await Bun.sleep(10);
    }
  }

  /** SIGTERM; resolves with the exit code and how long shutdown took. */
  async stop(): Promise<{ code: number; ms: number }> {
    const proc = this.proc!;
    const t0 = performance.now();
    proc.kill("SIGTERM");
    const killer = setTimeout(() => proc.kill("SIGKILL"), 20_000);
    const code = await proc.exited;
    clearTimeout(killer);
    this.proc = undefined;
    return { code, ms: performance.now() - t0 };
  }

  private async metricsOk(): Promise<boolean> {
    try {
      const res = await fetch(this.url("/metrics"));
      await res.arrayBuffer();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  async scrape(): Promise<Series> {
    const res = await fetch(this.url("/metrics"));
    if (res.status !== 200) throw new Error(`/metrics: HTTP ${res.status}`);
    return parseSeries(await res.text());
  }

  /** /tracers: events saved per tracer, and whether dropwatch runs. */
  async tracers(): Promise<Array<{ name: string; status: string; events: number }>> {
    const res = await fetch(this.url("/tracers"));
    return ((await res.json()) as { data: Array<{ name: string; status: string; events: number }> }).data;
  }

  /** Resident memory, and its anonymous part: the rest maps the ~110 MB executable (shared, reclaimable). */
  rss(): { total: number; anon: number } {
    const status = readFileSync(`/proc/${this.proc!.pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? 0) * 1024;
    return { total: kb("VmRSS"), anon: kb("RssAnon") };
  }

  cpuSeconds(): number {
    const fields = readFileSync(`/proc/${this.proc!.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_S;
  }
}

/** Drops the host and region labels so keys read `huatuo_bamai_storage_documents_total{backend="x",result="y"}`. */
export function parseSeries(text: string): Series {
  const out: Series = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const space = line.lastIndexOf(" ");
    const key = line.slice(0, space).replace(/,?(host|region)="[^"]*"/g, "").replace("{,", "{").replace("{}", "");
    out.set(key, Number(line.slice(space + 1)));
  }
  return out;
}

/** The value of `name` with these labels (in exposition order), 0 when absent. */
export function value(series: Series, name: string, labels = ""): number {
  return series.get(labels ? `${name}{${labels}}` : name) ?? 0;
}

/** Lines on the tmpfs, every file of every tracer; rotated files are final, so each is counted once before pruning. */
export class DiskLines {
  private readonly rotated = new Map<string, number>();

  count(dir: string): number {
    let current = 0;
    for (const tracer of listTracers(dir).filter((t) => !t.startsWith("."))) {
      for (const name of listRotated(dir, tracer)) if (!this.rotated.has(name)) this.rotated.set(name, countLines(join(dir, name)));
      current += countLines(join(dir, tracer));
    }
    return current + [...this.rotated.values()].reduce((a, b) => a + b, 0);
  }
}

/** Newline-terminated lines of a file (a torn last line is not one); 0 when it does not exist. */
export function countLines(path: string): number {
  try {
    const buf = readFileSync(path);
    let n = 0;
    for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, i + 1)) n++;
    return n;
  } catch {
    return 0; // pruned or not created yet
  }
}
