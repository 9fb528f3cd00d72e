// Daemon lifecycle from the built binary: dry run, graceful stop, single instance, port in use, SIGHUP reload, HTTP basics.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "bun";
import { runBinary, scrape, startDaemon, workDir } from "./support/daemon";

describe("lifecycle", () => {
  test("--dry-run starts, then stops cleanly with exit 0", async () => {
    const d = await startDaemon({ args: ["--dry-run"] });
    expect(await d.proc.exited).toBe(0);
    const out = await d.output();
    expect(out).toContain("huatuo-bamai started");
    expect(out).toContain("msg=stopped");
  });

  test("SIGTERM stops within 10 s, exit 0, pidfile removed", async () => {
    const d = await startDaemon();
    const pidfile = join(d.dir, "huatuo-bamai.pid");
    expect(existsSync(pidfile)).toBe(true);
    const started = Date.now();
    expect(await d.stop("SIGTERM")).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(existsSync(pidfile)).toBe(false);
  });

  test("SIGINT stops too", async () => {
    const d = await startDaemon();
    expect(await d.stop("SIGINT")).toBe(0);
  });

  test("a second instance on the same pidfile refuses to start", async () => {
    const d = await startDaemon();
    const second = await runBinary([
      "run", "--region", "x", "--config", join(d.dir, "huatuo-bamai.conf"), "--pid-file", join(d.dir, "huatuo-bamai.pid"),
      "--disable-kubelet",
    ]);
    expect(second.code).toBe(1);
    expect(second.stdout + second.stderr).toMatch(/already running: .* locked by pid \d+/);
    await d.stop();
  });

  test("a port in use fails startup with one line", async () => {
    const d = await startDaemon();
    const dir = workDir();
    writeFileSync(join(dir, "c.conf"), `[HTTPServer]\nListenAddress = "127.0.0.1:${d.port}"\n`);
    const second = await runBinary(["run", "--region", "x", "--config", join(dir, "c.conf"), "--pid-file", join(dir, "p.pid"), "--disable-kubelet"]);
    expect(second.code).toBe(1);
    expect(second.stdout).toMatch(/address already in use/);
    expect(second.stdout).not.toMatch(/^\s+at /m);
    await d.stop();
  });

  test("SIGHUP reloads a valid config and rejects an invalid one, staying up", async () => {
    const d = await startDaemon();
    const configPath = join(d.dir, "huatuo-bamai.conf");
    writeFileSync(configPath, `[HTTPServer]\nListenAddress = "127.0.0.1:${d.port}"\n[Log]\nLevel = "Debug"\n`);
    d.proc.kill("SIGHUP");
    await Bun.sleep(300);
    writeFileSync(configPath, `[HTTPServer]\nListenAddress = "127.0.0.1:${d.port}"\nNope = 1\n`);
    d.proc.kill("SIGHUP");
    await Bun.sleep(300);
    expect((await fetch(d.url("/healthz"))).status).toBe(204);
    expect(await d.stop()).toBe(0);
    const out = await d.output();
    expect(out).toContain('msg="config reloaded"');
    expect(out).toMatch(/config reload rejected.*Nope/);
  });
});

test("SIGHUP moves logging to a newly configured Log.File", async () => {
  const d = await startDaemon();
  const configPath = join(d.dir, "huatuo-bamai.conf");
  const logFile = join(d.dir, "agent.log");
  writeFileSync(configPath, `[HTTPServer]\nListenAddress = "127.0.0.1:${d.port}"\n[Log]\nFile = "${logFile}"\n`);
  d.proc.kill("SIGHUP");
  await Bun.sleep(300);
  expect(await d.stop()).toBe(0);
  const written = readFileSync(logFile, "utf8");
  expect(written).toContain('msg="config reloaded"');
  expect(written).toContain("msg=stopped");
});

describe("http", () => {
  test("health, version, tracers, 404 JSON, gzip", async () => {
    const d = await startDaemon();
    expect((await fetch(d.url("/healthz"))).status).toBe(204);
    const version = await (await fetch(d.url("/version"))).json();
    expect(version.data.name).toBe("huatuo-bamai");
    const tracers = await (await fetch(d.url("/tracers"))).json();
    expect(tracers.data.length).toBeGreaterThan(0);
    const missing = await fetch(d.url("/nope"));
    expect(missing.status).toBe(404);
    expect((await missing.json()).error.code).toBe("not_found");
    const zipped = await fetch(d.url("/metrics"), { headers: { "accept-encoding": "gzip" }, decompress: false });
    expect(zipped.headers.get("content-encoding")).toBe("gzip");
    const text = new TextDecoder().decode(gunzipSync(new Uint8Array(await zipped.arrayBuffer())));
    expect(text).toContain("huatuo_bamai_scrape_collector_success");
    expect(await scrape(d)).toContain("huatuo_http_server_requests_total");
    await d.stop();
  });

  test("per-client rate limit answers 429 JSON", async () => {
    const d = await startDaemon({ config: "RequestsPerSecond = 5\n" });
    const codes = await Promise.all(Array.from({ length: 20 }, () => fetch(d.url("/healthz")).then((r) => r.status)));
    expect(codes.filter((c) => c === 429).length).toBeGreaterThan(0);
    await d.stop();
  });

  test("request body over the limit is refused", async () => {
    const d = await startDaemon({ config: "MaxBodyBytes = 1024\n" });
    const res = await fetch(d.url("/healthz"), { method: "POST", body: "x".repeat(64 * 1024) });
    expect(res.status).toBe(413);
    await d.stop();
  });
});

