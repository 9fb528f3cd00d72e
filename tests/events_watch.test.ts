// The daemon's event plumbing from the built binary: POST /v1/events/watch with curl -N (headers, pings, 400, 429,
// Bun's idle timeout, clean end at shutdown), `events tail` against it, --disable-storage, an unreachable
// Elasticsearch at start, and the storage and watch metrics.
import { describe, expect, test } from "bun:test";
import { spawn } from "bun";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { BINARY, scrape, startDaemon } from "./support/daemon";

function curlWatch(url: string, body = "{}") {
  const proc = spawn(
    ["curl", "-s", "-N", "-D", "-", "-X", "POST", url, "-H", "Content-Type: application/json", "-H", "Accept: text/event-stream", "-d", body],
    { stdout: "pipe", stderr: "ignore" },
  );
  const text = { out: "" };
  void (async () => {
    for await (const chunk of proc.stdout) text.out += new TextDecoder().decode(chunk);
  })();
  return { proc, text };
}

/** Whether the exposition has a series `name` with these labels (among others, e.g. host and region) and value. */
/** A series with these labels exists (with `value`, when given: live kernel events may move the others). */
function hasSeries(exposition: string, name: string, labels: Record<string, string>, value?: number): boolean {
  return exposition.split("\n").some((line) => {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) return false;
    const ok = Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`));
    return ok && (value === undefined || line.endsWith(` ${value}`));
  });
}

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await Bun.sleep(50);
  }
}

describe("POST /v1/events/watch on the daemon", () => {
  test("curl -N: SSE headers and a ping every KeepAliveInterval; the stream ends cleanly at shutdown", async () => {
    const d = await startDaemon({ config: "[EventsWatch]\nKeepAliveInterval = 1\n" });
    const curl = curlWatch(d.url("/v1/events/watch"), '{"filters": {"tracer_name": "^oom$"}}');
    await until(() => curl.text.out.split(": ping\n").length >= 3);
    expect(curl.text.out).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(curl.text.out).toMatch(/content-type: text\/event-stream/i);
    expect(curl.text.out).toMatch(/cache-control: no-cache/i);
    expect(await d.stop()).toBe(0);
    expect(await curl.proc.exited).toBe(0);
  });

  test("bad filters are 400 invalid_request; beyond MaxClients is 429 rate_limited", async () => {
    const d = await startDaemon({ config: "[EventsWatch]\nMaxClients = 1\n" });
    const post = (body: string) => fetch(d.url("/v1/events/watch"), { method: "POST", body });
    const bad = await post('{"filters": {"tracer_name": "oom("}}');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe("invalid_request");
    const first = curlWatch(d.url("/v1/events/watch"));
    await until(() => first.text.out.includes(": ping"));
    const second = await post("{}");
    expect(second.status).toBe(429);
    expect(await second.json()).toEqual({ error: { code: "rate_limited", message: "max watch clients reached (1)" } });
    first.proc.kill();
    await d.stop();
  });

  test("a quiet stream outlives Bun's 10 s idle timeout", async () => {
    const d = await startDaemon();
    const curl = curlWatch(d.url("/v1/events/watch"));
    await Bun.sleep(11_500);
    expect(curl.proc.exitCode).toBeNull();
    expect(hasSeries(await scrape(d), "huatuo_bamai_events_watch_clients", {}, 1)).toBe(true);
    curl.proc.kill();
    await d.stop();
  }, 30_000);

  test("events tail connects to the daemon and exits 0 on Ctrl-C", async () => {
    const d = await startDaemon();
    const tail = spawn([BINARY, "events", "tail", "--server", d.url("")], { stdout: "pipe", stderr: "pipe" });
    await until(async () => hasSeries(await scrape(d), "huatuo_bamai_events_watch_clients", {}, 1));
    tail.kill("SIGINT");
    expect(await tail.exited).toBe(0);
    expect(await new Response(tail.stderr).text()).toContain(`watching ${d.url("/v1/events/watch")}`);
    await d.stop();
  });
});

describe("storage in the daemon", () => {
  test("the local file backend and the watch stream are on by default, with their metrics", async () => {
    const d = await startDaemon();
    const metrics = await scrape(d);
    const stored = { backend: "local_file", result: "stored", region: "test" };
    // Real drops on this host (dropwatch) may already have been stored: only the series' presence is fixed.
    expect(hasSeries(metrics, "huatuo_bamai_storage_documents_total", stored)).toBe(true);
    expect(hasSeries(metrics, "huatuo_bamai_storage_backlog_documents", { backend: "local_file" })).toBe(true);
    expect(hasSeries(metrics, "huatuo_bamai_events_watch_dropped_total", { reason: "slow_client" }, 0)).toBe(true);
    await d.stop();
    expect(await d.output()).toMatch(/msg=storage backends=local_file disabled=false/);
  });

  test("--disable-storage: no backends and no files, the watch stream still serves", async () => {
    const d = await startDaemon({ args: ["--disable-storage"] });
    const curl = curlWatch(d.url("/v1/events/watch"));
    await until(() => curl.text.out.includes(": ping"));
    expect(await scrape(d)).not.toContain("huatuo_bamai_storage_documents_total{");
    curl.proc.kill();
    await d.stop();
    expect(await d.output()).toMatch(/msg=storage backends=none disabled=true/);
    expect(existsSync(join(d.dir, "huatuo-local"))).toBe(false);
  });

  test("an unreachable Elasticsearch does not stop the agent from starting", async () => {
    const es = 'Address = "http://127.0.0.1:9"\nUsername = "elastic"\nPassword = "x"\n';
    const d = await startDaemon({ config: `[Storage.ES]\n${es}` });
    expect((await fetch(d.url("/healthz"))).status).toBe(204);
    expect(hasSeries(await scrape(d), "huatuo_bamai_storage_backlog_documents", { backend: "elasticsearch" })).toBe(true);
    await d.stop();
    expect(await d.output()).toMatch(/msg=storage backends="local_file,elasticsearch"/);
  });
});
