// Container attribution of network events from the built binary: kubelet-style v1 cgroups behind a fake kubelet,
// each container's process in its own network namespace. A drop in a container's namespace and a late read in
// it carry that container; a BestEffort container's slow packets are skipped (ExcludedContainerQos).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn } from "bun";
import { isRoot, rootOnly } from "./support/bpf_helpers";
import { NetFixture, sh, storedDocs, until, watchEvents, type Watch } from "./support/events_net_support";
import { fakeKubelet, KubeNode, podJson, podList, randomId, V1_ROOTS, type FakeKubelet, type FakePod } from "./support/cgroups";
import { startDaemon, workDir, type DaemonHandle } from "./support/daemon";

const net = new NetFixture();
const node = new KubeNode(V1_ROOTS);
const store = `${workDir("huatuo-net-ct-")}/local`;
const PORT = 20000 + Math.floor(Math.random() * 30000);
let daemon: DaemonHandle;
let kubelet: FakeKubelet;
let watch: Watch;
const ns = { web: "", batch: "", client: "" };
const pods: Record<"web" | "batch", FakePod> = {} as never;

/** A pod whose one container sleeps in network namespace `netns`. */
function addPod(name: "web" | "batch", qos: FakePod["qos"], netns: string): void {
  const uid = randomId().slice(0, 32);
  const c = node.addContainer({ naming: "cgroupfs", qos, podUid: uid, name, cmd: ["ip", "netns", "exec", netns, "sleep", "600"] });
  pods[name] = { uid, name: `${name}-0`, namespace: "net", qos, containers: [c] };
}

/** client → web and client → batch over two veth pairs. */
function wire(): void {
  for (const [i, target] of [ns.web, ns.batch].entries()) {
    sh("ip", "-n", ns.client, "link", "add", `c${i}`, "type", "veth", "peer", "name", "eth0", "netns", target);
    sh("ip", "-n", ns.client, "addr", "add", `10.214.${i}.1/24`, "dev", `c${i}`);
    sh("ip", "-n", target, "addr", "add", `10.214.${i}.2/24`, "dev", "eth0");
    sh("ip", "-n", ns.client, "link", "set", `c${i}`, "up");
    sh("ip", "-n", target, "link", "set", "eth0", "up");
  }
}

beforeAll(async () => {
  if (!isRoot) return;
  ns.web = net.netns("hbctw");
  ns.batch = net.netns("hbctb");
  ns.client = net.netns("hbctc");
  wire();
  addPod("web", "Burstable", ns.web);
  addPod("batch", "BestEffort", ns.batch);
  kubelet = fakeKubelet(podList(Object.values(pods).map(podJson)));
  const config = [
    `[Pod]\nKubeletReadOnlyPort = ${kubelet.port}\nKubeletAuthorizedPort = 0`,
    `[Storage.LocalFile]\nPath = "${store}"`,
    `[EventTracing.NetRxLatency]\nDriver2Userspace = 1\nExcludedContainerQos = ["besteffort"]`,
  ].join("\n");
  daemon = await startDaemon({ procfsPrefix: null, kubelet: true, config });
  watch = watchEvents(daemon, "^(dropwatch|net_rx_latency)$");
  const ids = Object.values(pods).map((p) => p.containers[0]!.id);
  await until(async () => {
    const listed = JSON.stringify(await (await fetch(daemon.url("/containers/json"))).json());
    return ids.every((id) => listed.includes(id));
  }, 20_000, "containers discovered");
});

afterAll(async () => {
  watch?.stop();
  await daemon?.stop();
  kubelet?.stop();
  await node.cleanup();
  net.cleanup();
});

/** A reader in `target` that reads each chunk late, and a client in the client namespace. */
async function slowExchange(target: string, address: string, port: number): Promise<void> {
  const server = `
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("${address}", ${port})); s.listen()
c, _ = s.accept()
for i in range(3):
    time.sleep(0.15); c.recv(65536)
`;
  const client = `
import socket, time
time.sleep(0.3)
s = socket.create_connection(("${address}", ${port}))
for i in range(3):
    s.send(b"x" * 1000); time.sleep(0.2)
`;
  const srv = spawn(["ip", "netns", "exec", target, "python3", "-c", server], { stdout: "ignore", stderr: "ignore" });
  const cli = spawn(["ip", "netns", "exec", ns.client, "python3", "-c", client], { stdout: "ignore", stderr: "ignore" });
  expect(await cli.exited).toBe(0);
  expect(await srv.exited).toBe(0);
}

describe.skipIf(!isRoot)(rootOnly("network events attributed to containers"), () => {
  test("a drop in the web container's namespace carries the container", async () => {
    sh("ip", "netns", "exec", ns.web, "bash", "-c", `echo drop > /dev/udp/127.0.0.1/${PORT}`);
    const doc = await until(() => storedDocs(store, "dropwatch").find((d) => d.tracer_data.dport === PORT), 10_000, "stored drop");
    const web = pods.web.containers[0]!;
    expect(doc).toMatchObject({ container_id: web.id, container_hostname: "web-0", container_host_namespace: "net", container_qos: "burstable" });
    const streamed = await until(() => watch.events().find((e) => e.tracer_data.dport === PORT), 5000, "streamed drop");
    expect((streamed as { container_id?: string }).container_id).toBe(web.id);
  }, 30_000);

  test("a late read in the web container carries it; the BestEffort container's is excluded", async () => {
    await slowExchange(ns.batch, "10.214.1.2", PORT + 2);
    await slowExchange(ns.web, "10.214.0.2", PORT + 1);
    const doc = await until(() => storedDocs(store, "net_rx_latency").find((d) => d.tracer_data.dport === PORT + 1), 10_000, "stored");
    expect(doc).toMatchObject({ container_id: pods.web.containers[0]!.id, container_qos: "burstable" });
    expect(doc.tracer_data.where).toBe("TO_USER_COPY");
    expect(storedDocs(store, "net_rx_latency").filter((d) => d.tracer_data.dport === PORT + 2)).toEqual([]);
  }, 30_000);
});
