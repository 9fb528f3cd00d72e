// cgroupstats: the kernel's count of a cgroup v1 directory's tasks by state, asked of the taskstats generic netlink
// family. A scrape asks for every container in one call into the native layer (lib/hb_cgroupstats.c): one FFI call
// per request and per reply cost more than the kernel's work behind them.
import { constants } from "node:os";
import { asBuffer, HB_GLOBAL, type Native } from "../bpf/native";
import { errnoText } from "../sys/errno";
import { genlFamilyId, NETLINK_GENERIC, NetlinkError, withNetlinkSocket } from "./netlink";

export const TASKSTATS_FAMILY = "TASKSTATS";
/** struct cgroupstats: five __u64. */
const STATS_WORDS = 5;
const { ENOENT, ESRCH } = constants.errno;

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

/** The taskstats family id, undefined without CONFIG_TASKSTATS or outside the initial network namespace. */
export function taskstatsFamilyId(): number | undefined {
  return withNetlinkSocket(NETLINK_GENERIC, (s) => genlFamilyId(s, TASKSTATS_FAMILY));
}

/** Reads batches of cgroups; its buffers are kept and grown across batches. */
export class CgroupStatsReader {
  private out = new BigUint64Array(0);
  private errs = new Int32Array(0);
  private outBytes: Buffer = Buffer.alloc(0);
  private errsBytes: Buffer = Buffer.alloc(0);

  constructor(
    private readonly native: Native,
    private readonly family: number,
  ) {}

  /**
   * Stats of each v1 cgroup directory in `paths`, in order; undefined for a cgroup that is gone. Each directory is
   * open only for its request, so a removed cgroup never stays pinned by an fd the agent holds. Throws NetlinkError
   * for any other failure, with the errno of the path or of netlink itself.
   */
  readAll(paths: string[]): Array<CgroupStats | undefined> {
    if (paths.length === 0) return [];
    if (this.errs.length < paths.length) {
      this.out = new BigUint64Array(paths.length * STATS_WORDS);
      this.errs = new Int32Array(paths.length);
      this.outBytes = asBuffer(new Uint8Array(this.out.buffer));
      this.errsBytes = asBuffer(new Uint8Array(this.errs.buffer));
    }
    const names = Buffer.from(`${paths.join("\0")}\0`);
    const rc = this.native.api.hb_cgroupstats(this.family, names, paths.length, this.outBytes, this.errsBytes);
    if (rc < 0) {
      const { errno, message } = this.native.error(HB_GLOBAL);
      throw new NetlinkError("cgroupstats", errno, message);
    }
    return paths.map((path, i) => {
      const errno = this.errs[i]!;
      if (errno === ENOENT || errno === ESRCH) return undefined;
      if (errno !== 0) throw new NetlinkError("cgroupstats", errno, `${path}: ${errnoText(errno)}`);
      const at = i * STATS_WORDS;
      const [nrSleeping, nrRunning, nrStopped, nrUninterruptible, nrIoWait] = [0, 1, 2, 3, 4].map((w) =>
        Number(this.out[at + w]!),
      ) as [number, number, number, number, number];
      return { nrSleeping, nrRunning, nrStopped, nrUninterruptible, nrIoWait };
    });
  }
}
