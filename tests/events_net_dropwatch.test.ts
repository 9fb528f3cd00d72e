// dropwatch from the built binary against the real kernel: UDP to a closed loopback port (NO_SOCKET), an iptables
// DROP rule in a private network namespace (NETFILTER_DROP), and a full accept queue (TCP_LISTEN_OVERFLOW, the
// third-handshake overflow type); each in local storage, in the watch stream and in the tracer's event count.
// Neighbour-expiry drops (neigh_invalidate) are skipped until a SIGHUP reload turns ExcludedNeighInvalidate off.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "bun";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  metric,
  NetFixture,
  sh,
  startNetDaemon,
  storedDocs,
  tracerStatus,
  until,
  watchEvents,
  type Doc,
  type NetDaemon,
  type Watch,
} from "./support/events_net_support";

const net = new NetFixture();
let d: NetDaemon;
let watch: Watch;

beforeAll(async () => {
  d = await startNetDaemon();
  watch = watchEvents(d.daemon, "^dropwatch$");
  await until(async () => (await tracerStatus(d.daemon, "dropwatch")).status === "running", 5000, "dropwatch running");
});

afterAll(async () => {
  watch?.stop();
  await d?.daemon.stop();
  net.cleanup();
});

/** A port nothing listens on; distinct per test so documents are told apart. */
const freshPort = () => 20000 + Math.floor(Math.random() * 30000);

function udpSend(port: number, netns?: string): void {
  const send = `echo huatuo > /dev/udp/127.0.0.1/${port}`;
  sh(...(netns ? ["ip", "netns", "exec", netns] : []), "bash", "-c", send);
}

/** The stored document, and the same event in the watch stream. */
async function dropFor(match: (data: Record<string, unknown>) => boolean): Promise<Doc> {
  const doc = await until(() => storedDocs(d.store, "dropwatch").find((x) => match(x.tracer_data)), 10_000, "stored drop");
  await until(() => watch.events().find((e) => e.tracer_data.dport === doc.tracer_data.dport && match(e.tracer_data)), 5000, "watched drop");
  return doc;
}

describe("dropwatch", () => {
  test("runs on the BTF tracepoint and exports its counters", async () => {
    expect((await tracerStatus(d.daemon, "dropwatch")).hook).toBe("tp_btf:skb/kfree_skb");
    expect(await metric(d.daemon, "huatuo_bamai_dropwatch_ratelimited_total")).toBeGreaterThanOrEqual(0);
    expect(await metric(d.daemon, "huatuo_bamai_dropwatch_lost_total")).toBe(0);
  }, 30_000);

  test("UDP to a closed loopback port: NO_SOCKET with the 5-tuple, device and stack", async () => {
    const before = (await tracerStatus(d.daemon, "dropwatch")).events;
    const port = freshPort();
    udpSend(port);
    const doc = await dropFor((x) => x.dport === port && x.protocol === "udp");
    expect(doc.tracer_type).toBe("event");
    expect(doc.tracer_data).toMatchObject({
      type: "common_drop",
      drop_reason: "NO_SOCKET",
      saddr: "127.0.0.1",
      daddr: "127.0.0.1",
      family: "ipv4",
      netdev_name: "lo",
      netdev_ifindex: 1,
      netdev_linkstatus: ["linkstatus_adminup", "linkstatus_carrierup"],
      pkt_len: 15, // UDP header + "huatuo\n"
      sk_state: "unknown",
    });
    expect(doc.tracer_data.drop_location).toMatch(/^__udp4_lib_rcv\+0x/);
    expect(String(doc.tracer_data.stack).split("\n")[0]).toMatch(/^(sk_skb_reason_drop|kfree_skb_reason)\+/);
    expect(doc.container_id).toBeUndefined();
    expect((await tracerStatus(d.daemon, "dropwatch")).events).toBeGreaterThan(before);
  }, 30_000);

  test("an iptables DROP rule in a private network namespace: NETFILTER_DROP in that namespace", async () => {
    const ns = net.netns("hbdw");
    const port = freshPort();
    sh("ip", "netns", "exec", ns, "iptables", "-A", "INPUT", "-p", "udp", "--dport", String(port), "-j", "DROP");
    udpSend(port, ns);
    const doc = await dropFor((x) => x.dport === port && x.drop_reason === "NETFILTER_DROP");
    expect(doc.tracer_data.net_namespace_inum).toBe(net.inode(ns));
    expect(doc.tracer_data.netdev_name).toBe("lo");
    expect(String(doc.tracer_data.stack)).toContain("nf_hook_slow");
  }, 30_000);

  test("a full accept queue drops the handshake's final ACK: listen_overflow_handshake3", async () => {
    const port = freshPort();
    // clients with TCP_DEFER_ACCEPT delay their final ACK (TCP_DELACK_MAX), so every SYN finds room and the ACKs
    // then arrive at a listener whose accept queue (backlog 1) is full
    const script = `
import socket, time
srv = socket.socket(); srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", ${port})); srv.listen(1)
clients = []
for i in range(5):
    c = socket.socket(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_DEFER_ACCEPT, 1); c.setblocking(False)
    c.connect_ex(("127.0.0.1", ${port})); clients.append(c)
time.sleep(1)
`;
    expect(spawnSync(["python3", "-c", script]).exitCode).toBe(0);
    // 6.15+ names it; an ACK carrying a SYN cookie meets the same full queue in cookie_v4_check (NO_SOCKET)
    const doc = await dropFor((x) => x.dport === port && x.drop_reason === "TCP_LISTEN_OVERFLOW");
    expect(doc.tracer_data).toMatchObject({ type: "listen_overflow_handshake3", sk_state: "LISTEN", max_ack_backlog: 1, tcp_flags: "ACK" });
    expect(doc.tracer_data.ack_backlog).toBeGreaterThan(1);
  }, 30_000);

  test("neigh_invalidate drops: skipped while ExcludedNeighInvalidate is on, reported after a reload turns it off", async () => {
    // a neighbour that never answers: the queued packet is dropped when the entry fails (NEIGH_FAILED)
    const ns = net.netns("hbnh");
    sh("ip", "-n", ns, "link", "add", "nva", "type", "veth", "peer", "name", "nvb");
    sh("ip", "-n", ns, "addr", "add", "10.215.0.1/24", "dev", "nva");
    sh("ip", "-n", ns, "link", "set", "nva", "up");
    sh("ip", "-n", ns, "link", "set", "nvb", "up");
    sh("ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.neigh.nva.mcast_solicit=1", "net.ipv4.neigh.nva.retrans_time_ms=100");
    const neighDrops = (port: number) =>
      storedDocs(d.store, "dropwatch").filter((x) => x.tracer_data.dport === port && x.tracer_data.drop_reason === "NEIGH_FAILED");
    const unanswered = (port: number) => sh("ip", "netns", "exec", ns, "bash", "-c", `echo neigh > /dev/udp/10.215.0.2/${port}`);

    const quiet = freshPort();
    unanswered(quiet);
    await Bun.sleep(2000);
    expect(neighDrops(quiet)).toEqual([]);

    const config = join(d.daemon.dir, "huatuo-bamai.conf");
    writeFileSync(config, `${readFileSync(config, "utf8")}\n[EventTracing.Dropwatch]\nExcludedNeighInvalidate = false\n`);
    d.daemon.proc.kill("SIGHUP");
    await Bun.sleep(300);
    const port = freshPort();
    unanswered(port);
    const doc = await until(() => neighDrops(port)[0], 10_000, "neigh_invalidate drop");
    expect(doc.tracer_data.drop_location).toMatch(/^neigh_invalidate\+/);
    expect(doc.tracer_data.netdev_name).toBe("nva");
  }, 30_000);
});
