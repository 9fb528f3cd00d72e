// netdev_txqueue_timeout records: a timeout cannot be provoked here (no driver with a transmit watchdog), so the
// records are laid out as bpf/netdev_txqueue_timeout.bpf.c writes them, per variant, and decoded to documents.
import { describe, expect, test } from "bun:test";
import { decodeNetdevTxqueueTimeoutEvent, netdevTxqueueTimeoutEventLayout as layout } from "../bpf/gen/netdev_txqueue_timeout";
import { txqueueTimeoutData } from "./netdev_txqueue_timeout";

type Fields = Partial<Record<keyof typeof layout.fields, number | bigint | string>>;

function record(fields: Fields): DataView {
  const bytes = new Uint8Array(layout.size);
  const view = new DataView(bytes.buffer);
  for (const [name, value] of Object.entries(fields)) {
    const { offset, size } = layout.fields[name as keyof typeof layout.fields];
    if (typeof value === "string") bytes.set(new TextEncoder().encode(value).subarray(0, size - 1), offset);
    else if (size === 8) view.setBigUint64(offset, BigInt(value!), true);
    else view.setUint32(offset, Number(value), true);
  }
  return view;
}

describe("netdev_txqueue_timeout records", () => {
  test("tp_btf: the device gives its index, link state and namespace too", () => {
    const e = decodeNetdevTxqueueTimeoutEvent(
      record({ queue_index: 3, name: "eth0", driver: "ixgbe", ifindex: 2, link_status: 3, netns_inum: 4026531833, netns_cookie: 1n }),
      0,
    );
    expect(txqueueTimeoutData(e)).toEqual({
      queue_index: 3,
      device_name: "eth0",
      driver_name: "ixgbe",
      netdev_ifindex: 2,
      netdev_linkstatus: ["linkstatus_adminup", "linkstatus_carrierup"],
      net_namespace_inum: 4026531833,
      net_cookie: 1n,
    });
  });

  test("classic tracepoint: only what its record holds, the user guide's three fields", () => {
    const e = decodeNetdevTxqueueTimeoutEvent(record({ queue_index: 0, name: "enp6s0f0np0", driver: "mlx5_core" }), 0);
    expect(txqueueTimeoutData(e)).toEqual({ queue_index: 0, device_name: "enp6s0f0np0", driver_name: "mlx5_core" });
  });
});
