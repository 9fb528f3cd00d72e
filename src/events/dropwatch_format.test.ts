// dropwatch records to documents: a record recorded from this kernel (UDP to a closed loopback port, tp_btf hook),
// drop types from listener state and reasons, stack trimming, noise rules and reason names.
import { describe, expect, test } from "bun:test";
import { decodeDropwatchEvent, dropwatchEventLayout, type DropwatchEvent } from "../bpf/gen/dropwatch";
import { Kallsyms } from "../procfs/kallsyms";
import { DropReasons, NO_REASON } from "./drop_reasons";
import { dropType, dropwatchData, noiseReason, stackFrames, tcpFlagNames } from "./dropwatch_format";

/** kernel 6.18: echo hi > /dev/udp/127.0.0.1/9 with nothing listening on port 9 (trailing zero bytes cut). */
const UDP_NO_SOCKET =
  "4c640482ffffffff03000000000000000300000028490000f9ffffef010000000b0000000000000000000000000000000000000000000000190000000100000000080000bdc0090004110000030000007f0000010000000000000000000000007f000001000000000000000000000000626173680000000000000000000000006c6f000000000000000000000000000044bf02c0ffffffff2c874b81ffffffff7187eb81ffffffff5023e481ffffffff4c640482ffffffff4358ff81ffffffffa159ff81ffffffff1d5ae681ffffffff035de681ffffffffe163e681ffffffff3b69e681ffffffff6d003681ffffffffcbfa3581ffffffff54033681ffffffff3c2de681ffffffff419eff81ffffffff8fc4ff81ffffffffd1d9ff81ffffffff77fa0382ffffffffe6420482ffffffff59c2e281ffffffffd88c6b81ffffffffaa8f6b81ffffffff51c91e82ffffffff30010081ffffffff";

const SYMBOLS = Kallsyms.parse(
  [
    "ffffffff814b8630 T bpf_trace_run4",
    "ffffffff814b87f0 T bpf_trace_run5",
    "ffffffff81e422c0 T sk_skb_reason_drop",
    "ffffffff81e423f0 T kfree_skb_list_reason",
    "ffffffff81eb8730 T __traceiter_kfree_skb",
    "ffffffff81eb87a0 T __probestub_kfree_skb",
    "ffffffff81ff5790 T ip_protocol_deliver_rcu",
    "ffffffff81ff5910 T ip_local_deliver_finish",
    "ffffffff82045f90 T __udp4_lib_rcv",
    "ffffffff82046c90 T udp_v4_early_demux",
    "ffffffffc00288f0 t bpf_prog_e8c7df3a62b22025_dropwatch_btf\t[bpf]",
  ].join("\n"),
);

const REASONS = new DropReasons(new Map([[2, "SKB_DROP_REASON_NOT_SPECIFIED"], [3, "SKB_DROP_REASON_NO_SOCKET"], [40, "SKB_DROP_REASON_TCP_LISTEN_OVERFLOW"]]));

function recorded(): DropwatchEvent {
  const bytes = Buffer.alloc(dropwatchEventLayout.size);
  Buffer.from(UDP_NO_SOCKET, "hex").copy(bytes);
  return decodeDropwatchEvent(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0);
}

describe("a recorded record", () => {
  test("decodes and becomes the user guide's fields plus the additions", () => {
    const e = recorded();
    const frames = stackFrames(e, SYMBOLS);
    const data = dropwatchData(e, { reasons: REASONS, symbols: SYMBOLS, frames });
    expect(data).toMatchObject({
      type: "common_drop",
      comm: "bash",
      saddr: "127.0.0.1",
      daddr: "127.0.0.1",
      dport: 9,
      pkt_len: 11,
      sk_state: "unknown",
      netdev_name: "lo",
      netdev_ifindex: 1,
      netdev_linkstatus: ["linkstatus_adminup", "linkstatus_carrierup"],
      drop_reason: "NO_SOCKET",
      drop_location: "__udp4_lib_rcv+0x4bc/0xd00",
      protocol: "udp",
      family: "ipv4",
      seq: 0,
      tcp_flags: "",
    });
    expect(typeof data.net_cookie).toBe("bigint");
    expect(data.stack).toBe("sk_skb_reason_drop+0x90/0x130\n__udp4_lib_rcv+0x4bc/0xd00\nip_protocol_deliver_rcu+0xb3/0x180\n" + frames.slice(3).join("\n"));
  });

  test("stack frames start after the BPF program and the tracepoint glue; without symbols all stay", () => {
    const e = recorded();
    expect(stackFrames(e, SYMBOLS)[0]).toBe("sk_skb_reason_drop+0x90/0x130");
    expect(stackFrames(e, Kallsyms.parse(""))).toHaveLength(e.stack_depth);
  });
});

function tcpDrop(fields: Partial<DropwatchEvent>): DropwatchEvent {
  return { ...recorded(), l4_protocol: 6, family: 4, reason: 2, ...fields };
}

describe("drop types", () => {
  const LISTEN = 10;
  const overflow = REASONS.value("TCP_LISTEN_OVERFLOW");

  test("6.15+: TCP_LISTEN_OVERFLOW on the final ACK or on a SYN", () => {
    expect(dropType(tcpDrop({ reason: 40, tcp_flags: 0x10 }), overflow)).toBe("listen_overflow_handshake3");
    expect(dropType(tcpDrop({ reason: 40, tcp_flags: 0x02 }), overflow)).toBe("listen_overflow_handshake1");
  });

  test("older kernels: the listener's queues at the drop", () => {
    const listener = { sk_state: LISTEN, max_ack_backlog: 4 };
    expect(dropType(tcpDrop({ ...listener, tcp_flags: 0x02, syn_backlog: 4 }), overflow)).toBe("syn_flood");
    expect(dropType(tcpDrop({ ...listener, tcp_flags: 0x02, ack_backlog: 5 }), overflow)).toBe("listen_overflow_handshake1");
    expect(dropType(tcpDrop({ ...listener, tcp_flags: 0x10, ack_backlog: 5 }), overflow)).toBe("listen_overflow_handshake3");
    expect(dropType(tcpDrop({ ...listener, tcp_flags: 0x10, ack_backlog: 4 }), overflow)).toBe("common_drop");
  });

  test("anything else is a common drop", () => {
    expect(dropType(tcpDrop({ sk_state: 1, tcp_flags: 0x18 }), overflow)).toBe("common_drop");
    expect(dropType(recorded(), overflow)).toBe("common_drop");
  });
});

describe("noise and names", () => {
  test("neigh_invalidate anywhere in the stack, when excluded; bnxt transmit drops", () => {
    const frames = ["sk_skb_reason_drop+0x90/0x130", "neigh_invalidate+0x8c/0x150", "neigh_timer_handler+0x2a0/0x3a0"];
    expect(noiseReason(frames, "neigh_invalidate+0x8c/0x150", true)).toBe("neigh_invalidate");
    expect(noiseReason(frames, "neigh_invalidate+0x8c/0x150", false)).toBeUndefined();
    expect(noiseReason([], "bnxt_tx_int+0x10/0x80 [bnxt_en]", true)).toBe("bnxt_tx");
    expect(noiseReason([], "bnxt_rx_pkt+0x10/0x80 [bnxt_en]", true)).toBeUndefined();
  });

  test("reasons lose their enum prefix; unknown numbers stay numbers; pre-5.17 kernels have none", () => {
    expect(REASONS.name(3)).toBe("NO_SOCKET");
    expect(REASONS.name(77)).toBe("77");
    expect(REASONS.name(NO_REASON)).toBe("NOT_SUPPORTED");
    expect(new DropReasons(new Map([[1, "SKB_CONSUMED"]])).name(1)).toBe("CONSUMED");
  });

  test("TCP flags by name", () => {
    expect(tcpFlagNames(0x12)).toBe("SYN|ACK");
    expect(tcpFlagNames(0)).toBe("");
  });
});
