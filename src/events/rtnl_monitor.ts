// An rtnetlink link subscription (RTMGRP_LINK) on a non-blocking socket drained when the shared poller finds it
// readable, so it never blocks the event loop; a kernel-side overflow (ENOBUFS) makes the caller re-read the whole state.
import { eventPoller } from "../bpf/poller";
import { NLMSG_ERROR, parseMessages, rtnetlinkDump } from "../procfs/netlink";
import { closeFd, ENOBUFS, openNetlinkMulticast, recvNow, SysError } from "./net_libc";
import { parseLink, RTM_DELLINK, RTM_NEWLINK, RTMGRP_LINK, type LinkMessage } from "./rtnl_link";

const RECV_BYTES = 64 * 1024;
/** Room for bursts (a bond flapping all its ports) before the kernel drops notifications. */
const RCVBUF_BYTES = 1 << 20;
const RTM_GETLINK = 18;

export interface LinkNotice {
  type: typeof RTM_NEWLINK | typeof RTM_DELLINK;
  link: LinkMessage;
}

export interface LinkBatch {
  notices: LinkNotice[];
  /** Notifications were lost (socket overflow, or a datagram larger than the buffer): re-dump the links. */
  overflow: boolean;
}

/** Every link of the agent's network namespace, as RTM_NEWLINK dumps them (with IFLA_LINKINFO). */
export function dumpLinkMessages(): LinkMessage[] {
  return rtnetlinkDump(RTM_GETLINK, new Uint8Array(16))
    .filter((m) => m.type === RTM_NEWLINK)
    .map((m) => parseLink(m.payload));
}

export class LinkMonitor {
  private readonly buf = new Uint8Array(RECV_BYTES);
  private closed = false;

  private constructor(private readonly fd: number) {}

  /** Subscribes before the caller's baseline dump, so no change between the two goes unseen. */
  static open(): LinkMonitor {
    return new LinkMonitor(openNetlinkMulticast(RTMGRP_LINK, RCVBUF_BYTES));
  }

  /** What is queued now, without waiting. */
  drain(): LinkBatch {
    const batch: LinkBatch = { notices: [], overflow: false };
    for (;;) {
      let n: number;
      try {
        n = recvNow(this.fd, this.buf);
      } catch (err) {
        if (err instanceof SysError && err.errno === ENOBUFS) {
          batch.overflow = true;
          continue;
        }
        throw err;
      }
      if (n === 0) return batch;
      if (n > this.buf.length) {
        batch.overflow = true;
        continue;
      }
      for (const msg of parseMessages(this.buf.subarray(0, n))) {
        if (msg.type === NLMSG_ERROR) throw new Error("rtnetlink subscription reported an error");
        if (msg.type === RTM_NEWLINK || msg.type === RTM_DELLINK) batch.notices.push({ type: msg.type, link: parseLink(msg.payload) });
      }
    }
  }

  /** Hands over each batch as it arrives, until signal aborts. */
  async watch(onBatch: (batch: LinkBatch) => void, signal: AbortSignal): Promise<void> {
    if (this.closed) return;
    const ready = () => {
      const batch = this.drain();
      if (batch.notices.length || batch.overflow) onBatch(batch);
      return false; // drain() read until the socket was empty
    };
    await (await eventPoller()).watch(this.fd, ready, signal);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    closeFd(this.fd);
  }
}
