// The soak's surroundings and the faults it injects: an Elasticsearch-compatible `_bulk` endpoint and a kubelet on
// loopback that flap, a small tmpfs for storage that is filled and freed, and real packet drops at a steady rate.
import type { Server } from "bun";
import { spawnSync } from "bun";
import { closeSync, mkdirSync, openSync, unlinkSync, writeSync } from "node:fs";
import { createSocket } from "node:dgram";
import { join } from "node:path";
import { podList } from "../../tests/support/cgroups";

/** A loopback server that can be stopped and started again on the same port (down = connection refused). */
class Flapping {
  private server?: Server<undefined>;
  port = 0;

  constructor(private readonly handler: (req: Request) => Response | Promise<Response>) {}

  up(): void {
    if (this.server) return;
    this.server = Bun.serve({ hostname: "127.0.0.1", port: this.port, fetch: (req) => this.handler(req) });
    this.port = this.server.port!;
  }

  down(): void {
    this.server?.stop(true);
    this.server = undefined;
  }
}

export type EsMode = "up" | "down" | "429";

/** `_bulk` that acknowledges every item, refuses with 429, or is not listening; remembers every id it acknowledged. */
export class FakeEs {
  readonly acked = new Set<string>();
  duplicates = 0;
  mode: EsMode = "up";
  private readonly server = new Flapping((req) => this.bulk(req));

  get url(): string {
    return `http://127.0.0.1:${this.server.port}`;
  }

  set(mode: EsMode): void {
    this.mode = mode;
    if (mode === "down") this.server.down();
    else this.server.up();
  }

  stop(): void {
    this.server.down();
  }

  private async bulk(req: Request): Promise<Response> {
    const body = await req.text();
    if (this.mode === "429") return new Response('{"error":"es_rejected_execution_exception"}', { status: 429 });
    const ids = body
      .split("\n")
      .filter((_, i) => i % 2 === 0)
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { index: { _id: string } }).index._id);
    for (const id of ids) {
      if (this.acked.has(id)) this.duplicates++;
      this.acked.add(id);
    }
    return Response.json({ errors: false, items: ids.map((_id) => ({ index: { _id, status: 201 } })) });
  }
}

export type KubeletMode = "up" | "down" | "garbage" | "500";

/** A kubelet read-only port listing `pods`, or answering garbage, 500, or not listening. */
export class FakeKubelet {
  mode: KubeletMode = "up";
  private readonly server = new Flapping(() => this.pods());

  constructor(private readonly items: unknown[]) {}

  get port(): number {
    return this.server.port;
  }

  set(mode: KubeletMode): void {
    this.mode = mode;
    if (mode === "down") this.server.down();
    else this.server.up();
  }

  stop(): void {
    this.server.down();
  }

  private pods(): Response {
    if (this.mode === "garbage") return new Response("{not json", { headers: { "content-type": "application/json" } });
    if (this.mode === "500") return new Response("internal error", { status: 500 });
    return Response.json(podList(this.items));
  }
}

/** A tmpfs of `mib` MiB mounted at `dir` for the local storage; fill() takes every free byte, free() gives them back. */
export class SmallTmpfs {
  private readonly filler: string;

  constructor(
    readonly dir: string,
    mib: number,
  ) {
    mkdirSync(dir, { recursive: true });
    run("mount", "-t", "tmpfs", "-o", `size=${mib}m,mode=0755`, "soak-storage", dir);
    this.filler = join(dir, ".soak-filler");
  }

  /** Writes until ENOSPC; returns the bytes taken. */
  fill(): number {
    const fd = openSync(this.filler, "w");
    const chunk = Buffer.alloc(64 << 10, 0x61);
    let bytes = 0;
    try {
      for (;;) bytes += writeSync(fd, chunk);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
    } finally {
      closeSync(fd);
    }
    return bytes;
  }

  free(): void {
    try {
      unlinkSync(this.filler);
    } catch {
      // not filled
    }
  }

  unmount(): void {
    run("umount", "-l", this.dir);
  }
}

function run(...argv: string[]): void {
  const r = spawnSync(argv, { stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")}: ${r.stderr.toString().trim()}`);
}

/** UDP datagrams to closed loopback ports: each is one real kernel drop (skb:kfree_skb, reason NO_SOCKET). */
export class DropGenerator {
  sent = 0;
  failed = 0;
  private next = 0;
  private readonly socket = createSocket("udp4");
  private readonly ports: number[] = [];
  private timer?: Timer;
  private carry = 0;

  /** Ports that were just free: bound by us, then closed, so nothing listens on them. */
  async init(count = 4): Promise<void> {
    for (let i = 0; i < count; i++) {
      const probe = createSocket("udp4");
      await new Promise<void>((resolve) => probe.bind(0, "127.0.0.1", resolve));
      this.ports.push(probe.address().port);
      probe.close();
    }
  }

  /** Sends `perSecond` datagrams a second in 20 ms ticks; 0 pauses. */
  rate(perSecond: number): void {
    clearInterval(this.timer);
    this.timer = undefined;
    if (perSecond <= 0) return;
    this.timer = setInterval(() => this.tick(perSecond / 50), 20);
  }

  private tick(n: number): void {
    this.carry += n;
    for (; this.carry >= 1; this.carry--) this.send(this.ports[this.next++ % this.ports.length]!, 5);
  }

  /**
   * The ICMP port-unreachable answer to one datagram is reported as ECONNREFUSED by the socket's next send, which
   * then sends nothing: that one is sent again, so `sent` counts datagrams that really left.
   */
  private send(port: number, retries: number): void {
    this.socket.send("huatuo-soak", port, "127.0.0.1", (err) => {
      if (!err) this.sent++;
      else if (retries > 0) this.send(port, retries - 1);
      else this.failed++;
    });
  }

  close(): void {
    this.rate(0);
    this.socket.close();
  }
}
