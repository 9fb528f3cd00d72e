// softirq_tracing from the built binary on the real kernel: with a 1 µs DisabledThreshold, loopback network load makes
// NET_RX softirqs wait for the sender's bottom-half-disabled section; the events reach storage, the watch stream,
// carry a symbolized kernel stack and name the sender's container. The per-CPU rate limit keeps the flood bounded
// and counts what it held back. The threshold follows a SIGHUP reload without reloading the programs.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { scrape, workDir } from "./support/daemon";
import { EventNode, isRoot, metricValue, storedDocs, until } from "./support/events_sys_support";

const env = new EventNode(workDir("huatuo-events-softirq-"));
let watch: Awaited<ReturnType<EventNode["watch"]>>;

beforeAll(async () => {
  if (!isRoot) return;
  env.addContainers(["loader"]);
  // 10 s: nothing is held off that long, until the reload below lowers it
  await env.start("[EventTracing.Softirq]\nDisabledThreshold = 10000000000\n");
  watch = await env.watch({ tracer_name: "^softirq_tracing$" });
}, 60_000);

afterAll(async () => {
  watch?.proc.kill();
  await env.cleanup();
}, 60_000);

describe.skipIf(!isRoot)("softirq_tracing on the real kernel", () => {
  test("loopback traffic: NET_RX held off past 1 µs, with the task and stack that let it run", async () => {
    const loader = env.containers.get("loader")!;
    const load = env.runIn("loader", "exec stress-ng --sock 2 --udp 1 -t 15s");
    try {
      await Bun.sleep(1500);
      expect(storedDocs(env.localDir, "softirq_tracing")).toEqual([]);
      const conf = join(env.daemon!.dir, "huatuo-bamai.conf");
      writeFileSync(conf, readFileSync(conf, "utf8").replace("DisabledThreshold = 10000000000", "DisabledThreshold = 1000"));
      env.daemon!.proc.kill("SIGHUP");
      // the first NET_RX event streamed after the load started (the daemon's own HTTP traffic makes some before)
      const streamed = await until(() => watch.events().find((e) => e.data.tracer_data.softirq === "NET_RX"), 20_000, "NET_RX streamed");
      const doc = await until(() => storedDocs(env.localDir, "softirq_tracing").find((d) => d.tracer_id === streamed.data.tracer_id), 5_000, "stored");
      const data = doc.tracer_data;
      expect(doc).toMatchObject({ tracer_name: "softirq_tracing", tracer_type: "event" });
      expect(data.threshold).toBe(1000);
      expect(data.offtime).toBeGreaterThan(1000);
      expect(data.cpu).toBeGreaterThanOrEqual(0);
      expect(data.pid).toBeGreaterThan(0);
      expect(data.comm).not.toMatch(/^(ksoftirqd|swapper)\//);
      expect(data.now).toBeGreaterThan(0);
      // innermost frames are the softirq machinery, in the kernel's %pS form
      expect(data.stack.split("\n")[0]).toMatch(/^\w+\+0x[0-9a-f]+\/0x[0-9a-f]+/);
      // the BPF and tracepoint frames are left out: the softirq machinery comes first
      expect(data.stack.split("\n")[0]).toMatch(/^(handle_softirqs|__do_softirq)\+/);
      expect(streamed.data.tracer_data).toEqual(data);
      // softirqs run when the sender enables bottom halves again: in the loader's own processes
      const attributed = await until(() => watch.events().find((e) => e.data.container_id === loader.id), 10_000, "an event of the loader");
      expect(attributed.data).toMatchObject({ container_hostname: "loader-0", container_host_namespace: "events" });
      expect(attributed.data.tracer_data.comm).toStartWith("stress-ng");
    } finally {
      load.kill();
      await load.exited;
    }
    const text = await scrape(env.daemon!);
    expect(metricValue(text, "huatuo_bamai_softirq_tracing_ratelimited_total")).toBeGreaterThan(0);
    const status = (await (await fetch(env.daemon!.url("/tracers"))).json()) as { data: Array<{ name: string; hook: string; events: number }> };
    const tracer = status.data.find((t) => t.name === "softirq_tracing")!;
    expect(tracer.hook).toBe("tp_btf:irq/softirq_raise,irq/softirq_entry");
    expect(tracer.events).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
