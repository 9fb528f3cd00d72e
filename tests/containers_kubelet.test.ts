// Kubelet trouble from the built binary: unreachable, garbage, HTTP errors, a TLS kubelet refusing our certificate,
// missing certificate files — each logged once per episode, none blocking startup, /metrics or /containers/json.
// Also the happy HTTPS path (mutual TLS with "cert,key" and with one PEM) and the two ways to switch discovery off.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { KubeletClient } from "../src/pod/kubelet";
import { fakeKubelet, KubeNode, makeCerts, podJson, podList, V1_ROOTS, type FakePod } from "./support/cgroups";
import { freePort, scrape, startDaemon, workDir, type DaemonHandle } from "./support/daemon";

const node = new KubeNode(V1_ROOTS);
let certs: Awaited<ReturnType<typeof makeCerts>>;
let pod: FakePod;

beforeAll(async () => {
  certs = await makeCerts(workDir("huatuo-certs-"));
  const uid = crypto.randomUUID();
  pod = { uid, name: "web-0", namespace: "shop", qos: "Burstable", containers: [
    node.addContainer({ naming: "cgroupfs", qos: "Burstable", podUid: uid, name: "app" }),
  ] };
});
afterAll(() => node.cleanup());

function podConfig(ro: number, authorized: number, certPath = ""): string {
  return `[Pod]\nKubeletReadOnlyPort = ${ro}\nKubeletAuthorizedPort = ${authorized}\nKubeletClientCertPath = "${certPath}"\n`;
}

async function containers(d: DaemonHandle): Promise<unknown[]> {
  const res = await fetch(d.url("/containers/json"));
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: unknown[] }).data;
}

/** Scrapes and lists while the kubelet misbehaves, then stops and returns the log lines. */
async function stillServing(d: DaemonHandle, waitMs: number): Promise<string[]> {
  await Bun.sleep(waitMs);
  expect(await scrape(d)).toContain("huatuo_bamai_scrape_collector_success");
  expect(await containers(d)).toEqual([]);
  expect(await d.stop()).toBe(0);
  return (await d.output()).split("\n");
}

const failedLines = (lines: string[]) => lines.filter((l) => l.includes("kubelet pod sync failed"));
const retryLines = (lines: string[]) => lines.filter((l) => l.includes("kubelet pod sync still failing"));

describe("kubelet failures never break the agent", () => {
  test("unreachable: startup is not blocked, one warning, retries with backoff at debug", async () => {
    const port = freePort();
    const started = Date.now();
    const d = await startDaemon({ procfsPrefix: null, kubelet: true, args: ["--log-debug"], config: podConfig(port, 0) });
    expect(Date.now() - started).toBeLessThan(5_000);
    const lines = await stillServing(d, 3_500);
    expect(failedLines(lines)).toHaveLength(1);
    expect(failedLines(lines)[0]).toContain(`http://127.0.0.1:${port}/pods: ECONNREFUSED`);
    // Retries after 1 s and 2 s: backoff, not a tight loop.
    expect(retryLines(lines).length).toBeGreaterThanOrEqual(1);
    expect(retryLines(lines).length).toBeLessThanOrEqual(3);
  });

  test("garbage JSON, then HTTP 500, then recovery: one warning for the episode, one recovery line", async () => {
    const kubelet = fakeKubelet(() => new Response("garbage{", { headers: { "content-type": "application/json" } }));
    const d = await startDaemon({ procfsPrefix: null, kubelet: true, config: podConfig(kubelet.port, 0) });
    await Bun.sleep(1_500);
    expect(await containers(d)).toEqual([]);
    kubelet.respond = () => new Response("oops", { status: 500 });
    await Bun.sleep(2_000);
    expect((await fetch(d.url("/metrics"))).status).toBe(200);
    kubelet.respond = podList([podJson(pod)]);
    const deadline = Date.now() + 10_000;
    while ((await containers(d)).length === 0 && Date.now() < deadline) await Bun.sleep(100);
    expect(await containers(d)).toHaveLength(1);
    await d.stop();
    kubelet.stop();
    const lines = (await d.output()).split("\n");
    expect(failedLines(lines)).toHaveLength(1);
    expect(failedLines(lines)[0]).toContain("invalid JSON");
    expect(lines.filter((l) => l.includes("kubelet pod sync recovered"))).toHaveLength(1);
  }, 20_000);

  test("a JSON document that is not a PodList is an error, not a crash", async () => {
    const kubelet = fakeKubelet([1, 2, 3]);
    const d = await startDaemon({ procfsPrefix: null, kubelet: true, config: podConfig(kubelet.port, 0) });
    const lines = await stillServing(d, 1_500);
    kubelet.stop();
    expect(failedLines(lines)).toHaveLength(1);
    expect(failedLines(lines)[0]).toContain("not a PodList");
  });

  test("TLS kubelet that rejects our client certificate: one warning", async () => {
    const kubelet = fakeKubelet(podList([podJson(pod)]), { cert: certs.srv, key: certs.srvKey, ca: certs.ca });
    const d = await startDaemon({ procfsPrefix: null, kubelet: true, config: podConfig(0, kubelet.port, `${certs.bad},${certs.badKey}`) });
    const lines = await stillServing(d, 3_500);
    kubelet.stop();
    expect(failedLines(lines)).toHaveLength(1);
    expect(failedLines(lines)[0]).toContain(`https://127.0.0.1:${kubelet.port}/pods`);
  });

  test("missing client certificate files: one warning naming the file, startup not failed", async () => {
    const missing = join(workDir(), "nope.pem");
    const d = await startDaemon({ procfsPrefix: null, kubelet: true, config: podConfig(0, freePort(), missing) });
    const lines = await stillServing(d, 1_500);
    expect(failedLines(lines)).toHaveLength(1);
    expect(failedLines(lines)[0]).toContain(`client certificate ${missing}: ENOENT`);
  });
});

describe("kubelet over HTTPS with a client certificate", () => {
  test("read-only port down, authorized port up with one PEM holding cert and key: pods listed", async () => {
    const kubelet = fakeKubelet(podList([podJson(pod)]), { cert: certs.srv, key: certs.srvKey, ca: certs.ca });
    const pem = join(workDir(), "kubelet-client-current.pem");
    writeFileSync(pem, readFileSync(certs.cli, "utf8") + readFileSync(certs.cliKey, "utf8"));
    const d = await startDaemon({ procfsPrefix: null, kubelet: true, config: podConfig(freePort(), kubelet.port, pem) });
    const deadline = Date.now() + 10_000;
    while ((await containers(d)).length === 0 && Date.now() < deadline) await Bun.sleep(100);
    const [c] = (await containers(d)) as Array<{ id: string }>;
    expect(c!.id).toBe(pod.containers[0]!.id);
    await d.stop();
    kubelet.stop();
    expect(failedLines((await d.output()).split("\n"))).toHaveLength(0);
  });

  test('"cert,key" form, and the endpoint that answered is tried first next time', async () => {
    const kubelet = fakeKubelet(podList([podJson(pod)]), { cert: certs.srv, key: certs.srvKey, ca: certs.ca });
    const client = new KubeletClient({
      KubeletReadOnlyPort: freePort(), KubeletAuthorizedPort: kubelet.port, KubeletClientCertPath: `${certs.cli},${certs.cliKey}`,
    });
    expect(await client.fetchPods()).toHaveLength(1);
    expect(await client.fetchPods()).toHaveLength(1);
    expect(kubelet.requests).toBe(2);
    kubelet.stop();
    await expect(client.fetchPods()).rejects.toThrow(/^https:.*ECONNREFUSED.*; http:.*ECONNREFUSED/);
  });
});

describe("discovery off", () => {
  test("--disable-kubelet and both ports 0 each say why, once", async () => {
    for (const opts of [{ kubelet: false, config: podConfig(1, 1, "x") }, { kubelet: true, config: podConfig(0, 0) }]) {
      const d = await startDaemon({ procfsPrefix: null, ...opts });
      expect(await containers(d)).toEqual([]);
      await d.stop();
      const off = (await d.output()).split("\n").filter((l) => l.includes("pod discovery off"));
      expect(off).toHaveLength(1);
    }
  });
});
