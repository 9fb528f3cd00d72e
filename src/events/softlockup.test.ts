// softlockup from recorded kernel log records (/dev/kmsg as a 6.x kernel writes a soft lockup report), the kmsg record
// parser, and the handler's 10 min → 3 h backoff with the counter that sees every lockup.
import { describe, expect, test } from "bun:test";
import { FamilySet } from "../framework/families";
import { formatKmsgLine, parseKmsgRecord, unescapeKmsg, type KmsgRecord } from "./kmsg";
import { MemcgResolver } from "./memcg";
import { LockupScanner, parseSoftLockup, SoftlockupHandler } from "./softlockup";
import { CaptureSink } from "./testing";

/** A soft lockup report as read from /dev/kmsg, one record per read. */
const REPORT = [
  "0,8812,5123456789,-;watchdog: BUG: soft lockup - CPU#3 stuck for 23s! [kworker/3:1:1234]",
  "4,8813,5123456801,-;Modules linked in: veth xt_conntrack nf_nat overlay",
  "4,8814,5123456810,-;CPU: 3 PID: 1234 Comm: kworker/3:1 Tainted: G             L     6.1.0-18-amd64 #1  Debian 6.1.76-1\n SUBSYSTEM=cpu\n DEVICE=+cpu:cpu3",
  "4,8815,5123456815,-;RIP: 0010:native_queued_spin_lock_slowpath+0x5d/0x1d0",
  "4,8816,5123456820,-;Call Trace:",
  "4,8817,5123456821,-; <TASK>",
  "4,8818,5123456822,-; _raw_spin_lock+0x29/0x30",
  "4,8819,5123456823,-; process_one_work+0x1c7/0x380",
  "4,8820,5123456824,-; </TASK>",
];

const records = (lines: string[]) => lines.map((l) => parseKmsgRecord(l)!);
/** No memory controller: nothing is attributed (the hungtask tests cover attribution by pid). */
const noMemcg = new MemcgResolver({ list: () => [] }, { mode: "none", v1: new Map() });

describe("/dev/kmsg records", () => {
  test("priority, sequence, timestamp and the first line of the message", () => {
    expect(parseKmsgRecord(REPORT[2]!)).toEqual({
      level: 4, seq: 8814, usec: 5123456810,
      message: "CPU: 3 PID: 1234 Comm: kworker/3:1 Tainted: G             L     6.1.0-18-amd64 #1  Debian 6.1.76-1",
    });
    // facility 3 (daemon) << 3 | level 6
    expect(parseKmsgRecord("30,1,2,-;systemd[1]: started")!.level).toBe(6);
    expect(parseKmsgRecord("garbage")).toBeUndefined();
    expect(unescapeKmsg("a\\x5cb\\x0ac")).toBe("a\\b\nc");
  });

  test("printed with the wall clock of boot plus the record's time", () => {
    const r: KmsgRecord = { level: 6, seq: 1, usec: 61_500_000, message: "sysrq: Show backtrace of all active CPUs" };
    const boot = new Date(2025, 5, 10, 14, 29, 20).getTime();
    expect(formatKmsgLine(r, boot)).toBe("2025-06-10 14:30:21 sysrq: Show backtrace of all active CPUs");
  });
});

describe("soft lockup lines", () => {
  test("the watchdog's BUG line", () => {
    expect(parseSoftLockup("watchdog: BUG: soft lockup - CPU#3 stuck for 23s! [kworker/3:1:1234]")).toEqual({
      cpu: 3, stuckSeconds: 23, comm: "kworker/3:1", pid: 1234,
    });
    // a comm may hold spaces and colons
    expect(parseSoftLockup("BUG: soft lockup - CPU#0 stuck for 104s! [my app:x:77]")).toMatchObject({ comm: "my app:x", pid: 77 });
    expect(parseSoftLockup("watchdog: BUG: hard lockup on CPU 3")).toBeUndefined();
  });

  test("the report is what follows the BUG line for two seconds", () => {
    const scanner = new LockupScanner();
    const boot = 0;
    expect(scanner.feed(records(["6,1,1,-;eth0: link up", ...REPORT.slice(0, 5)]), 10_000, boot)).toEqual([]);
    const [lockup, ...rest] = scanner.feed(records(REPORT.slice(5)), 12_000, boot);
    expect(rest).toEqual([]);
    expect(lockup).toMatchObject({ cpu: 3, pid: 1234, comm: "kworker/3:1", stuckSeconds: 23 });
    expect(lockup!.report).toHaveLength(REPORT.length);
    expect(lockup!.report![0]).toEndWith("watchdog: BUG: soft lockup - CPU#3 stuck for 23s! [kworker/3:1:1234]");
    expect(lockup!.report!.at(-2)).toEndWith(" process_one_work+0x1c7/0x380");
  });

  test("a second lockup closes the first report", () => {
    const scanner = new LockupScanner();
    const second = "0,9000,6000000000,-;watchdog: BUG: soft lockup - CPU#1 stuck for 22s! [stress:99]";
    const done = scanner.feed(records([...REPORT, second]), 0, 0);
    expect(done.map((l) => l.cpu)).toEqual([3]);
    expect(scanner.feed([], 2_000, 0).map((l) => [l.cpu, l.report!.length])).toEqual([[1, 1]]);
  });
});

describe("storing", () => {
  test("the first lockup is stored with its report; the storm behind it only counted", async () => {
    const sink = new CaptureSink();
    const handler = new SoftlockupHandler(noMemcg, sink, async () => ({ captured: false, text: "not captured: no sysrq" }));
    const scanner = new LockupScanner();
    scanner.feed(records(REPORT), 5_000, 0);
    const [lockup] = scanner.feed([], 7_000, 0);
    await handler.handle(lockup!);
    await handler.handle({ ...lockup!, cpu: 5 });
    expect(sink.inputs.map((i) => i.tracerName)).toEqual(["softlockup"]);
    expect(sink.data[0]).toMatchObject({ cpu: 3, pid: 1234, comm: "kworker/3:1", stuck_seconds: 23 });
    expect(sink.data[0]!.cpus_stack).toContain(" _raw_spin_lock+0x29/0x30");
    expect(sink.data[0]!.cpus_stack).not.toContain("not captured");
    const set = new FamilySet({ host: "h", region: "r" });
    handler.collect(set.emitterFor("softlockup"));
    expect(set.all().find((f) => f.name === "huatuo_bamai_softlockup_total")!.samples[0]!.value).toBe(2);
  });

  test("the kprobe path has no report: the backtraces, or why there are none", async () => {
    const sink = new CaptureSink();
    const sysrq = "2025-06-10 14:30:22 sysrq: Show backtrace of all active CPUs\n2025-06-10 14:30:22 NMI backtrace for cpu 15";
    await new SoftlockupHandler(noMemcg, sink, async () => ({ captured: true, text: sysrq })).handle({ cpu: 15, pid: 12345, tgid: 12340, comm: "kworker/15:0" });
    await new SoftlockupHandler(noMemcg, sink, async () => ({ captured: false, text: "not captured: kernel.sysrq=0 does not allow dumps (bit 0x8)" })).handle({ cpu: 1, pid: 2, comm: "x" });
    expect(sink.data).toEqual([
      { cpu: 15, pid: 12345, comm: "kworker/15:0", cpus_stack: sysrq, tgid: 12340 },
      { cpu: 1, pid: 2, comm: "x", cpus_stack: "not captured: kernel.sysrq=0 does not allow dumps (bit 0x8)" },
    ]);
  });
});
