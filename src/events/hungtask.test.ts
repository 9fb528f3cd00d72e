// hungtask without hanging anything: D-state stacks from a recorded /proc tree, SysRq policy, the handler's backoff,
// counter and container attribution through the task's memory cgroup.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { FamilySet } from "../framework/families";
import { removeTempRoots, tempRoot, testContainer } from "../metrics/testing";
import { getRootPrefix, setRootPrefix } from "../procfs/root";
import { Logger } from "../log";
import { blockedTaskStacks, stackFrames, statState } from "./diagnostics";
import { HungtaskHandler } from "./hungtask";
import { MemcgResolver } from "./memcg";
import { CaptureSink } from "./testing";

const container = testContainer();
const STACK = "[<0>] percpu_rwsem_wait+0x11b/0x140\n[<0>] __percpu_down_read+0x6c/0x80\n[<0>] vfs_write+0x2ff/0x3b0\n[<0>] ksys_write+0x6b/0xf0\n";

let previous = "";
beforeAll(() => {
  previous = getRootPrefix();
  const root = tempRoot({
    "proc/4242/task/4242/stat": "4242 (dd) D 4200 4242 4200 0 -1 4194304 95 0 0 0 0 0 0 0 20 0 1 0 5133 5840896 225",
    "proc/4242/task/4242/comm": "dd\n",
    "proc/4242/task/4242/stack": STACK,
    "proc/4242/task/4243/stat": "4243 (dd worker) S 4200 4242 4200 0 -1 4194304 95 0 0 0 0 0 0 0 20 0 1 0 5133 5840896 225",
    "proc/4242/status": "Name:\tdd\nTgid:\t4242\nPid:\t4242\n",
    "proc/4242/cgroup": `4:memory:/${container.cgroupPath}\n0::/\n`,
    "proc/77/task/77/stat": "77 (kworker/u8:3) I 2 0 0 0 -1 69238880 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0",
    "proc/sys/kernel/hung_task_timeout_secs": "2\n",
    [`sys/fs/cgroup/memory/${container.cgroupPath}/memory.stat`]: "",
  });
  setRootPrefix(root);
});

afterAll(() => {
  setRootPrefix(previous);
  removeTempRoots();
});

describe("D-state stacks", () => {
  test("state letter and frames", () => {
    expect(statState("4243 (dd (x) y) D 4200 4242")).toBe("D");
    expect(stackFrames(STACK)).toEqual(["percpu_rwsem_wait+0x11b/0x140", "__percpu_down_read+0x6c/0x80", "vfs_write+0x2ff/0x3b0", "ksys_write+0x6b/0xf0"]);
  });

  test("only tasks in D state, each with its frames", () => {
    expect(blockedTaskStacks()).toBe(
      "task:dd state:D pid:4242 tgid:4242\n  percpu_rwsem_wait+0x11b/0x140\n  __percpu_down_read+0x6c/0x80\n  vfs_write+0x2ff/0x3b0\n  ksys_write+0x6b/0xf0",
    );
  });
});

describe("hung task events", () => {
  test("stored once per backoff interval with its container; every one counted", async () => {
    const sink = new CaptureSink();
    const memcg = new MemcgResolver({ list: () => [container] });
    const handler = new HungtaskHandler(memcg, sink, new Logger("test"), async () => ({ captured: false, text: "not captured: no sysrq" }));
    await handler.handle({ pid: 4242, tgid: 0, comm: "dd" });
    await handler.handle({ pid: 4242, tgid: 0, comm: "dd" });
    expect(sink.inputs).toHaveLength(1);
    expect(sink.inputs[0]!.container?.id).toBe(container.id);
    expect(sink.data[0]).toEqual({
      pid: 4242, tgid: 4242, comm: "dd", cpus_stack: "not captured: no sysrq",
      blocked_processes_stack: blockedTaskStacks(), hung_task_timeout_secs: 2,
    });
    const set = new FamilySet({ host: "h", region: "r" });
    handler.collect(set.emitterFor("hungtask"));
    expect(set.all().find((f) => f.name === "huatuo_bamai_hungtask_total")!.samples[0]!.value).toBe(2);
  });
});
