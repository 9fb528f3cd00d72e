// Container series from the built binary on real cgroup v1 (this hybrid host) and on the cgroup2 mount: a CPU burner
// under a CFS quota, a memory allocator, a process in its own network namespace receiving traffic over a veth pair.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "bun";
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fakeKubelet, KubeNode, podJson, podList, V1_ROOTS, V2_ROOT, waitOwnNetns, type FakeContainer, type FakeKubelet, type FakePod } from "./support/cgroups";
import { BINARY, scrape, seriesLines, startDaemon, workDir, type DaemonHandle } from "./support/daemon";

const BURN = ["sh", "-c", "while :; do :; done"];
// Allocates once inside its cgroup: v1 does not move charges with a task (memory.move_charge_at_immigrate is 0).
const ALLOC = [BINARY.replace(/dist\/huatuo-bamai$/, "node_modules/.bin/bun"), "-e",
  "setTimeout(() => { globalThis.b = Buffer.alloc(64 << 20, 1); }, 500); setInterval(() => {}, 1e6)"];
const NETNS = ["unshare", "--net", "sleep", "600"];

async function sh(cmd: string[]): Promise<void> {
  const p = spawn(cmd, { stdout: "ignore", stderr: "pipe" });
  if ((await p.exited) !== 0) throw new Error(`${cmd.join(" ")}: ${await new Response(p.stderr).text()}`);
}

/** A veth pair: `host` side in this namespace, eth0 inside the process's namespace, a /30 between them. */
async function veth(pid: number, host: string, subnet: number): Promise<string> {
  const ip = (n: number) => `10.213.${subnet}.${n}`;
  await sh(["ip", "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", String(pid)]);
  await sh(["ip", "addr", "add", `${ip(1)}/30`, "dev", host]);
  await sh(["ip", "link", "set", host, "up"]);
  for (const args of [["addr", "add", `${ip(2)}/30`, "dev", "eth0"], ["link", "set", "eth0", "up"], ["link", "set", "lo", "up"]]) {
    await sh(["nsenter", "-t", String(pid), "-n", "ip", ...args]);
  }
  return ip(2);
}

/** UDP datagrams to a closed port: each is received on eth0 and answered with ICMP port unreachable. */
async function traffic(to: string, count: number): Promise<void> {
  // bash's /dev/udp: a fresh socket per datagram, so the ICMP errors coming back are nobody's problem.
  await sh(["bash", "-c", `for i in $(seq ${count}); do echo ${"x".repeat(100)} > /dev/udp/${to}/9; done 2>/dev/null; true`]);
  await Bun.sleep(300);
}

function valueOf(text: string, name: string, labels: Record<string, string>): number | undefined {
  const line = seriesLines(text, `${name}{`).find((l) => Object.entries(labels).every(([k, v]) => l.includes(`${k}="${v}"`)));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(" ") + 1));
}

interface Setup {
  kubelet: FakeKubelet;
  daemon: DaemonHandle;
  burner: FakeContainer;
  alloc: FakeContainer;
  net: FakeContainer;
  netIp: string;
  hostVeth: string;
}

/** `node` is the caller's, so its afterAll removes processes and cgroups even when this setup fails half-way. */
async function setUp(node: KubeNode, subnet: number, start: (kubeletPort: number, s: Omit<Setup, "daemon" | "kubelet">) => Promise<DaemonHandle>): Promise<Setup> {
  const [u1, u2, u3] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
  const burner = node.addContainer({ naming: "cgroupfs", qos: "Burstable", podUid: u1, name: "burner", cmd: BURN });
  const alloc = node.addContainer({ naming: "systemd", qos: "Burstable", podUid: u2, name: "alloc", cmd: ALLOC });
  const net = node.addContainer({ naming: "systemd", qos: "Guaranteed", podUid: u3, name: "net", cmd: NETNS });
  // Half a core for the burner: it is throttled, and cpu_util reports it against 0.5 cores.
  if (node.roots === V1_ROOTS) writeFileSync(`/sys/fs/cgroup/cpu/${burner.path}/cpu.cfs_quota_us`, "50000");
  await waitOwnNetns(net.pid);
  const hostVeth = `hv${Math.floor(Math.random() * 1e6)}`;
  const netIp = await veth(net.pid, hostVeth, subnet);
  const pods: FakePod[] = [
    { uid: u1, name: "burner-0", namespace: "load", qos: "Burstable", containers: [burner] },
    { uid: u2, name: "alloc-0", namespace: "load", qos: "Burstable", containers: [alloc] },
    { uid: u3, name: "net-0", namespace: "load", qos: "Guaranteed", containers: [net] },
  ];
  const kubelet = fakeKubelet(podList(pods.map(podJson)));
  const s = { burner, alloc, net, netIp, hostVeth };
  return { ...s, kubelet, daemon: await start(kubelet.port, s) };
}

async function tearDown(node: KubeNode, s: Setup | undefined): Promise<void> {
  await s?.daemon.stop();
  s?.kubelet.stop();
  await node.cleanup();
  if (s) await sh(["ip", "link", "del", s.hostVeth]).catch(() => {});
}

const podConfig = (port: number) => `[Pod]\nKubeletReadOnlyPort = ${port}\nKubeletAuthorizedPort = 0\n`;

/** Scrapes until every container shows up, then twice more 1.2 s apart so rates have two samples. */
async function settledScrape(d: DaemonHandle): Promise<string> {
  const deadline = Date.now() + 15_000;
  while (!/cpu_util_container_total\{[^}]*container_name="net"/.test(await scrape(d))) {
    if (Date.now() > deadline) throw new Error("containers never appeared in /metrics");
    await Bun.sleep(200);
  }
  await Bun.sleep(1_200);
  return scrape(d);
}

/** CPU in busy cores: util% is relative to the container's own cores. */
function busyCores(text: string, metric: string, who: Record<string, string>): number {
  const cores = valueOf(text, "huatuo_bamai_cpu_util_container_cores", who)!;
  return (valueOf(text, `huatuo_bamai_cpu_util_container_${metric}`, who)! * cores) / 100;
}

function checkCommon(text: string, name: (c: string) => Record<string, string>): void {
  const burn = name("burner");
  // Thresholds leave room for a busy 2-CPU test host: the burner gets what the scheduler gives it.
  expect(busyCores(text, "total", burn)).toBeGreaterThan(0.15);
  expect(busyCores(text, "usr", burn)).toBeGreaterThan(0.1);
  expect(busyCores(text, "total", name("alloc"))).toBeLessThan(0.1);
  expect(valueOf(text, "huatuo_bamai_loadavg_container_nr_running", burn)).toBe(1);
  expect(valueOf(text, "huatuo_bamai_loadavg_container_nr_uninterruptible", burn)).toBe(0);
  expect(valueOf(text, "huatuo_bamai_loadavg_container_nr_running", name("alloc"))).toBeLessThanOrEqual(1);
  const rx = valueOf(text, "huatuo_bamai_netdev_container_receive_packets_total", { ...name("net"), device: "eth0" });
  expect(rx).toBeGreaterThanOrEqual(200);
  expect(valueOf(text, "huatuo_bamai_netdev_container_transmit_packets_total", { ...name("net"), device: "eth0" })).toBeGreaterThan(0);
  expect(valueOf(text, "huatuo_bamai_arp_container_entries", name("net"))).toBeGreaterThanOrEqual(1);
  expect(valueOf(text, "huatuo_bamai_sockstat_container_sockets_used", name("net"))).toBeDefined();
  expect(text).not.toMatch(/huatuo_bamai_sockstat_container_TCP_mem_bytes/);
  expect(valueOf(text, "huatuo_bamai_netstat_container_Tcp_ActiveOpens", name("net"))).toBe(0);
}

const labels = (c: string, level: string, ns = "load") => ({
  container_name: c, container_host: `${c}-0`, container_hostnamespace: ns, container_level: level, container_type: "normal", region: "test",
});
const level: Record<string, string> = { burner: "burstable", alloc: "burstable", net: "guaranteed" };

describe("container series on cgroup v1", () => {
  const node = new KubeNode(V1_ROOTS);
  let s: Setup;
  beforeAll(async () => {
    s = await setUp(node, 1 + Math.floor(Math.random() * 250), (port) =>
      startDaemon({ procfsPrefix: null, kubelet: true, config: podConfig(port) }));
  });
  afterAll(() => tearDown(node, s));

  test("cpu, cpu_stat, loadavg, memory and network series with the five labels", async () => {
    await traffic(s.netIp, 200);
    const text = await settledScrape(s.daemon);
    checkCommon(text, (c) => labels(c, level[c]!));
    const burn = labels("burner", "burstable");
    expect(valueOf(text, "huatuo_bamai_cpu_util_container_cores", burn)).toBe(0.5);
    expect(valueOf(text, "huatuo_bamai_cpu_util_container_total", burn)).toBeLessThanOrEqual(100);
    expect(valueOf(text, "huatuo_bamai_cpu_stat_container_nr_throttled", burn)).toBeGreaterThan(0);
    expect(valueOf(text, "huatuo_bamai_cpu_stat_container_throttled_time", burn)).toBeGreaterThan(0);
    const anon = ["active_anon", "inactive_anon"].map((k) => valueOf(text, `huatuo_bamai_memory_vmstat_container_${k}`, labels("alloc", "burstable")) ?? 0);
    expect(anon[0]! + anon[1]!).toBeGreaterThanOrEqual(60 << 20);
    expect(text).not.toMatch(/memory_vmstat_container_total_/);
  });

  test("a container whose cgroup vanishes mid-run: /metrics stays whole, its series go, the others stay", async () => {
    await node.remove(s.alloc);
    const res = await fetch(s.daemon.url("/metrics"));
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const collector of ["cpu_util", "cpu_stat", "memory_vmstat", "loadavg", "netdev"]) {
      expect(valueOf(text, "huatuo_bamai_scrape_collector_success", { collector })).toBe(1);
    }
    expect(valueOf(text, "huatuo_bamai_cpu_util_container_total", labels("alloc", "burstable"))).toBeUndefined();
    expect(valueOf(text, "huatuo_bamai_cpu_util_container_total", labels("burner", "burstable"))).toBeDefined();
  });
});

describe("container series on cgroup v2 (the binary on a unified layout)", () => {
  const node = new KubeNode([V2_ROOT]);
  let s: Setup;
  beforeAll(async () => {
    s = await setUp(node, 1 + Math.floor(Math.random() * 250), (port, parts) => {
      const root = unifiedRoot([parts.burner, parts.alloc, parts.net].map((c) => c.pid));
      return startDaemon({ procfsPrefix: root, kubelet: true, config: podConfig(port) });
    });
  });
  afterAll(() => tearDown(node, s));

  test("cpu, loadavg and network series from the cgroup2 tree", async () => {
    await traffic(s.netIp, 200);
    const text = await settledScrape(s.daemon);
    checkCommon(text, (c) => labels(c, level[c]!));
    // No cpu controller in this host's cgroup2 tree: no quota, so the container may use every host CPU.
    expect(valueOf(text, "huatuo_bamai_cpu_util_container_cores", labels("burner", "burstable"))).toBeGreaterThanOrEqual(1);
  });
});

/**
 * A root where /sys/fs/cgroup is the real cgroup2 mount and mountinfo says "unified", with the real /proc entries
 * (host files and the test's processes) linked in, so the binary runs its v2 paths on real kernel cgroups.
 */
function unifiedRoot(pids: number[]): string {
  const root = workDir("huatuo-v2metrics-");
  mkdirSync(join(root, "proc/self"), { recursive: true });
  mkdirSync(join(root, "sys/fs"), { recursive: true });
  writeFileSync(join(root, "proc/self/mountinfo"), "32 22 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n");
  for (const name of readdirSync("/proc")) {
    if (name !== "self" && name !== "thread-self" && !/^\d+$/.test(name)) symlinkSync(`/proc/${name}`, join(root, "proc", name));
  }
  for (const pid of [1, ...pids]) symlinkSync(`/proc/${pid}`, join(root, "proc", String(pid)));
  for (const dir of ["devices", "class", "kernel"]) symlinkSync(`/sys/${dir}`, join(root, "sys", dir));
  symlinkSync(V2_ROOT, join(root, "sys/fs/cgroup"));
  return root;
}
