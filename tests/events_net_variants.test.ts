// The network event tracers' BPF variants against the live kernel: every tracepoint variant loads and attaches;
// dropwatch on the classic tracepoint and the perf buffer still reports a drop with its reason (the path of kernels
// before 6.11 and 5.8); kprobe-only hooks (the TCP stage, the bonding kprobe) are unsupported here with a reason.
import { beforeAll, describe, expect, test } from "bun:test";
import { buildBpf, isRoot, rootOnly } from "./support/bpf_helpers";
import type { HookKind } from "../src/bpf/hooks";
import type { TracerBpf } from "../src/bpf/loader";
import type { DocumentInput } from "../src/storage/document";

beforeAll(buildBpf);

const { kernelFeatures, loadTracer } = await import("../src/bpf/loader");
const { UnsupportedError } = await import("../src/framework/types");
const { stubContext } = await import("../src/metrics/testing");
const { buildDocument } = await import("../src/storage/document");
const { createDropwatch, dropwatchBpf } = await import("../src/events/dropwatch");
const { createNetRxLatency, rxLatencyBpf, RX_HOOKS } = await import("../src/events/net_rx_latency");
const { txqueueTimeoutBpf } = await import("../src/events/netdev_txqueue_timeout");
const { lacpBpf } = await import("../src/events/netdev_bonding_lacp");
const { loadEventObject } = await import("../src/events/net_common");

const SPECS: Record<string, TracerBpf> = {
  dropwatch: dropwatchBpf(),
  net_rx_latency: rxLatencyBpf(0n),
  netdev_txqueue_timeout: txqueueTimeoutBpf,
};

/** The spec with each hook reduced to its candidates of one kind (optional hooks may be left without any). */
function only(spec: TracerBpf, kind: HookKind): TracerBpf {
  return { ...spec, hooks: spec.hooks.map((h) => ({ ...h, candidates: h.candidates.filter((c) => c.kind === kind) })) };
}

/** This kernel's features as a kernel without its own BTF would show them: no BTF-typed tracepoints. */
async function withoutKernelBtf() {
  return { ...(await kernelFeatures()), kernelBtf: { available: false, reason: "test: no kernel BTF" } };
}

function capture() {
  const saved: DocumentInput[] = [];
  const ctx = stubContext();
  ctx.events = { save: (input) => (saved.push(input), buildDocument({ hostname: "h", region: "r" }, input)) };
  return { ctx, saved };
}

describe.skipIf(!isRoot)(rootOnly("network event programs on the live kernel"), () => {
  for (const [name, spec] of Object.entries(SPECS)) {
    test(`${name}: the tp_btf and classic tracepoint variants each load and attach`, async () => {
      for (const kind of ["tp_btf", "tracepoint"] as const) {
        const object = await loadTracer(only(spec, kind));
        expect(object.hook).toStartWith(`${kind}:`);
        object.close();
      }
    });
  }

  test("dropwatch on the classic tracepoint through the perf buffer reports a drop with its reason", async () => {
    const { ctx, saved } = capture();
    const tracer = await createDropwatch(ctx, { features: await withoutKernelBtf(), noRingbuf: true });
    expect(tracer.hook).toBe("tracepoint:skb/kfree_skb");
    const stop = new AbortController();
    const running = tracer.run!(stop.signal);
    const port = 20000 + Math.floor(Math.random() * 30000);
    const deadline = Date.now() + 10_000;
    let found: Record<string, unknown> | undefined;
    while (!found && Date.now() < deadline) {
      Bun.spawnSync(["bash", "-c", `echo variant > /dev/udp/127.0.0.1/${port}`]);
      await Bun.sleep(200);
      found = saved.map((s) => s.data).find((x) => x.dport === port);
    }
    stop.abort();
    await running;
    await tracer.close?.();
    expect(found).toMatchObject({ drop_reason: "NO_SOCKET", protocol: "udp", netdev_name: "lo" });
  }, 20_000);

  test("net_rx_latency on the classic tracepoints names its missing TCP stage", async () => {
    const { ctx } = capture();
    const tracer = await createNetRxLatency(ctx, { features: await withoutKernelBtf() });
    expect(tracer.hook).toStartWith("tracepoint:net/netif_receive_skb,skb/skb_copy_datagram_iovec");
    const { kprobes } = await kernelFeatures();
    if (!kprobes.available) expect(tracer.hook).toEndWith(`; unsupported tcp_v4_rcv (${kprobes.reason})`);
    await tracer.close?.();
  });

  test("kprobe-only hooks: the TCP stage alone and the bonding kprobe are unsupported without kprobes", async () => {
    const features = await kernelFeatures();
    const tcpOnly: TracerBpf = { ...SPECS.net_rx_latency!, hooks: [{ ...RX_HOOKS[1]!, optional: false }] };
    if (features.kprobes.available) return;
    for (const spec of [tcpOnly, lacpBpf]) {
      const err = await loadEventObject(spec).then(() => undefined, (e: Error) => e);
      expect(err).toBeInstanceOf(UnsupportedError);
      expect(err!.message).toContain(features.kprobes.reason!);
    }
  });
});
