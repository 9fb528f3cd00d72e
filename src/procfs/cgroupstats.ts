// cgroupstats: the kernel's count of a cgroup v1 directory's tasks by state, one generic netlink request of the
// taskstats family per cgroup, on a socket shared by every cgroup of a scrape.
import { closeSync, constants, openSync } from "node:fs";
import {
  encodeAttr,
  encodeGenl,
  genlFamilyId,
  NETLINK_GENERIC,
  NetlinkError,
  NetlinkSocket,
  parseGenl,
  readU64,
  withNetlinkSocket,
} from "./netlink";

export const TASKSTATS_FAMILY = "TASKSTATS";
const CGROUPSTATS_CMD_GET = 4;
const CGROUPSTATS_CMD_NEW = 5;
const CGROUPSTATS_CMD_ATTR_FD = 1;
const CGROUPSTATS_TYPE_CGROUP_STATS = 1;
const CGROUPSTATS_VERSION = 1;
/** struct cgroupstats: five __u64. */
const CGROUPSTATS_BYTES = 40;
const ENOENT = 2;
const ESRCH = 3;

/**
 * The kernel switches on each task's exact state: a plain TASK_UNINTERRUPTIBLE sleep counts as uninterruptible,
 * while killable sleeps and frozen tasks, which /proc/<tid>/stat shows as D, count as none of the five.
 */
export interface CgroupStats {
  nrSleeping: number;
  nrRunning: number;
  nrStopped: number;
  nrUninterruptible: number;
  nrIoWait: number;
}

/** The CGROUPSTATS_CMD_GET payload for a cgroup directory open as `fd` in the requesting process. */
export function encodeCgroupStatsGet(fd: number): Uint8Array {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, fd, true);
  return encodeGenl(CGROUPSTATS_CMD_GET, CGROUPSTATS_VERSION, [encodeAttr(CGROUPSTATS_CMD_ATTR_FD, data)]);
}

export function parseCgroupStatsReply(payload: Uint8Array): CgroupStats {
  const msg = parseGenl(payload);
  const stats = msg.attrs.get(CGROUPSTATS_TYPE_CGROUP_STATS);
  if (msg.cmd !== CGROUPSTATS_CMD_NEW || !stats || stats.length < CGROUPSTATS_BYTES) {
    throw new NetlinkError("parse", 0, `not a cgroupstats reply (cmd ${msg.cmd}, ${stats?.length ?? 0}-byte stats)`);
  }
  return {
    nrSleeping: readU64(stats, 0),
    nrRunning: readU64(stats, 8),
    nrStopped: readU64(stats, 16),
    nrUninterruptible: readU64(stats, 24),
    nrIoWait: readU64(stats, 32),
  };
}

/** The taskstats family id, undefined without CONFIG_TASKSTATS or outside the initial network namespace. */
export function taskstatsFamilyId(): number | undefined {
  return withNetlinkSocket(NETLINK_GENERIC, (s) => genlFamilyId(s, TASKSTATS_FAMILY));
}

/** One socket for a batch of cgroups; close() it when the batch is done. */
export class CgroupStatsReader {
  private readonly socket = NetlinkSocket.open(NETLINK_GENERIC);

  constructor(private readonly family: number) {}

  /**
   * Stats of the v1 cgroup directory at `path`; undefined when the cgroup is gone. The directory is opened only for
   * the request, so a removed cgroup never stays pinned by an fd the agent holds.
   */
  read(path: string): CgroupStats | undefined {
    let fd: number;
    try {
      fd = openSync(path, constants.O_RDONLY | constants.O_DIRECTORY);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    try {
      return parseCgroupStatsReply(this.socket.request(this.family, encodeCgroupStatsGet(fd)).payload);
    } catch (err) {
      // A cgroup removed between open and request: the kernel finds no live cgroup behind the directory.
      if (err instanceof NetlinkError && (err.errno === ENOENT || err.errno === ESRCH)) return undefined;
      throw err;
    } finally {
      closeSync(fd);
    }
  }

  close(): void {
    this.socket.close();
  }
}
