// Container series of the eBPF metrics from the built binary, on real cgroup v1 containers behind a fake kubelet:
// runqlat under stress-ng --switch, direct reclaim in a squeezed memory cgroup, and slow I/O charged to a blkio
// cgroup (a direct-I/O loop device whose backing writes that cgroup's throttle rule slows down).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isRoot, rootOnly } from "./support/bpf_helpers";
import { attachLoop, diskOf, matching, sumOf, type LoopDevice } from "./support/bpf_metrics_support";
import { fakeKubelet, KubeNode, podJson, podList, V1_ROOTS, type FakeContainer, type FakeKubelet, type FakePod } from "./support/cgroups";
import { scrape, startDaemon, workDir, type DaemonHandle } from "./support/daemon";

/** Runs `cmd` once the file `go` exists: after the test has moved it into its cgroup and set the limits. */
const gated = (dir: string, cmd: string) => ["sh", "-c", `while [ ! -e ${dir}/go ]; do sleep 0.05; done; ${cmd}`];

interface Setup {
  dir: string;
  loop: LoopDevice;
  node: KubeNode;
  kubelet: FakeKubelet;
  daemon: DaemonHandle;
  pods: FakePod[];
  c: Record<"switcher" | "squeezed" | "io", FakeContainer>;
}

function addPods(s: Pick<Setup, "dir" | "loop" | "node">): { pods: FakePod[]; c: Setup["c"] } {
  const add = (name: string, cmd: string) => {
    const podUid = crypto.randomUUID();
    const c = s.node.addContainer({ naming: "cgroupfs", qos: "Burstable", podUid, name, cmd: gated(s.dir, cmd) });
    return { pod: { uid: podUid, name: `${name}-0`, namespace: "bpf", qos: "Burstable" as const, containers: [c] }, c };
  };
  const switcher = add("switcher", "exec stress-ng --switch 1 -t 120");
  const squeezed = add("squeezed", `dd if=/dev/zero of=${s.dir}/squeeze bs=1M count=64 2>/dev/null; exec sleep 600`);
  const io = add("io", `dd if=/dev/zero of=${s.loop.path} bs=4k count=40 oflag=direct 2>/dev/null; exec sleep 600`);
  writeFileSync(`/sys/fs/cgroup/memory/${squeezed.c.path}/memory.limit_in_bytes`, String(16 << 20));
  // 20 writes/s on the loop's backing disk for this cgroup: the loop's requests take ~50 ms or more
  const rule = `${diskOf(s.dir)} 20`;
  writeFileSync(`/sys/fs/cgroup/blkio/${io.c.path}/blkio.throttle.write_iops_device`, rule);
  return { pods: [switcher.pod, squeezed.pod, io.pod], c: { switcher: switcher.c, squeezed: squeezed.c, io: io.c } };
}

const who = (name: string) => ({ container_name: name, container_host: `${name}-0`, container_hostnamespace: "bpf", container_level: "burstable", container_type: "normal" });

/** Scrapes until `ready` holds for the exposition, up to `ms`. */
async function scrapeUntil(d: DaemonHandle, ready: (text: string) => boolean, ms = 20_000): Promise<string> {
  const deadline = Date.now() + ms;
  for (;;) {
    const text = await scrape(d);
    if (ready(text)) return text;
    if (Date.now() > deadline) return text;
    await Bun.sleep(250);
  }
}

describe.skipIf(!isRoot)(rootOnly("eBPF container series on cgroup v1"), () => {
  const node = new KubeNode(V1_ROOTS);
  const s = { node } as Setup;
  beforeAll(async () => {
    s.dir = workDir("huatuo-bpf-containers-");
    s.loop = attachLoop(s.dir, true);
    Object.assign(s, addPods(s));
    s.kubelet = fakeKubelet(podList(s.pods.map(podJson)));
    const config = `[Pod]\nKubeletReadOnlyPort = ${s.kubelet.port}\nKubeletAuthorizedPort = 0\n`;
    s.daemon = await startDaemon({ procfsPrefix: null, kubelet: true, config });
    // the load starts once the daemon knows every container: counts of cgroups it does not know are dropped
    await scrapeUntil(s.daemon, (t) => matching(t, "huatuo_bamai_memory_reclaim_container_directstall").length >= 3);
    writeFileSync(join(s.dir, "go"), "");
  });
  afterAll(async () => {
    await s.daemon?.stop();
    s.kubelet?.stop();
    await node.cleanup();
    s.loop?.detach();
    rmSync(s.dir, { recursive: true, force: true });
  });

  test("runqlat_container_latency{zone} counts the switcher's wakeups; no container histogram", async () => {
    const text = await scrapeUntil(s.daemon, (t) => (sumOf(t, "huatuo_bamai_runqlat_container_latency", who("switcher")) ?? 0) > 10_000);
    expect(sumOf(text, "huatuo_bamai_runqlat_container_latency", who("switcher"))).toBeGreaterThan(10_000);
    expect(matching(text, "huatuo_bamai_runqlat_container_latency", who("switcher"))).toHaveLength(4);
    const host = sumOf(text, "huatuo_bamai_runqlat_latency")!;
    expect(host).toBeGreaterThan(sumOf(text, "huatuo_bamai_runqlat_container_latency", who("switcher"))!);
    expect(text).not.toContain("runqlat_container_latency_seconds");
  });

  test("memory_reclaim_container_directstall rises in the squeezed cgroup, stays 0 elsewhere", async () => {
    const stall = (t: string, name: string) => sumOf(t, "huatuo_bamai_memory_reclaim_container_directstall", who(name));
    const text = await scrapeUntil(s.daemon, (t) => (stall(t, "squeezed") ?? 0) > 0);
    expect(stall(text, "squeezed")).toBeGreaterThan(0);
    expect(stall(text, "switcher")).toBe(0);
  });

  test("iolatency_container_blkdisk_{q2c,d2c}: the io container's slow loop writes, non-zero zones only", async () => {
    const slow = (t: string, m: string) => sumOf(t, `huatuo_bamai_iolatency_container_blkdisk_${m}`, { ...who("io"), disk: s.loop.disk }) ?? 0;
    const text = await scrapeUntil(s.daemon, (t) => slow(t, "d2c") >= 10);
    expect(slow(text, "d2c")).toBeGreaterThanOrEqual(10);
    expect(slow(text, "q2c")).toBeGreaterThanOrEqual(slow(text, "d2c"));
    for (const line of matching(text, "huatuo_bamai_iolatency_container_blkdisk_d2c")) expect(line).not.toMatch(/ 0$/);
    expect(sumOf(text, "huatuo_bamai_iolatency_blkdisk_d2c", { disk: s.loop.disk })).toBeGreaterThanOrEqual(slow(text, "d2c"));
    expect(matching(text, "huatuo_bamai_iolatency_container_blkdisk_d2c", who("switcher"))).toHaveLength(0);
  });

  test("a container that vanished loses its series; the others keep theirs", async () => {
    await node.remove(s.c.switcher);
    s.kubelet.respond = podList(s.pods.filter((p) => p.name !== "switcher-0").map(podJson));
    const text = await scrapeUntil(s.daemon, (t) => matching(t, "huatuo_bamai_runqlat_container_latency", who("switcher")).length === 0);
    expect(matching(text, "huatuo_bamai_runqlat_container_latency", who("switcher"))).toHaveLength(0);
    expect(matching(text, "huatuo_bamai_memory_reclaim_container_directstall", who("switcher"))).toHaveLength(0);
    expect(sumOf(text, "huatuo_bamai_memory_reclaim_container_directstall", who("squeezed"))).toBeGreaterThan(0);
    expect(sumOf(text, "huatuo_bamai_scrape_collector_success", { collector: "runqlat" })).toBe(1);
  }, 30_000);
});
