// hungtask from the built binary on the real kernel: a writer in a container blocks in D state on a frozen ext4 loop
// filesystem (fsfreeze: sb_start_write waits uninterruptibly) and khungtaskd, at hung_task_timeout_secs = 2, reports
// it. Storage, the watch stream, the counter, the D-state stacks and the backoff that stores a storm once.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, truncateSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { workDir } from "./support/daemon";
import { EventNode, isRoot, metricUntil, storedDocs, until } from "./support/events_sys_support";

const HUNG_TASK = "/proc/sys/kernel/hung_task_timeout_secs";
/** Each report the kernel prints uses one of these up; restored afterwards. */
const HUNG_WARNINGS = "/proc/sys/kernel/hung_task_warnings";
const env = new EventNode(workDir("huatuo-events-hung-"));
const mnt = join(env.workDir, "mnt");
let watch: Awaited<ReturnType<EventNode["watch"]>>;
let writer: Subprocess;

function sh(cmd: string[]): string {
  const p = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${cmd.join(" ")}: ${p.stderr.toString()}`);
  return p.stdout.toString().trim();
}

/** An ext4 filesystem on a loop device, mounted, then frozen; cleanup thaws it, lets the writer finish, unmounts. */
function frozenFilesystem(): void {
  const image = join(env.workDir, "fs.img");
  closeSync(openSync(image, "w"));
  truncateSync(image, 64 << 20);
  const loop = sh(["losetup", "-f", "--show", image]);
  env.onCleanup(() => void sh(["losetup", "-d", loop]));
  sh(["mkfs.ext4", "-q", "-F", loop]);
  mkdirSync(mnt);
  sh(["mount", loop, mnt]);
  env.onCleanup(async () => {
    Bun.spawnSync(["fsfreeze", "-u", mnt]);
    writer?.kill("SIGKILL");
    await writer?.exited;
    sh(["umount", mnt]);
  });
  sh(["fsfreeze", "-f", mnt]);
}

beforeAll(async () => {
  if (!isRoot) return;
  if (!existsSync(HUNG_TASK)) throw new Error("kernel without CONFIG_DETECT_HUNG_TASK");
  env.addContainers(["stuck"]);
  frozenFilesystem();
  env.setFile(HUNG_WARNINGS, readFileSync(HUNG_WARNINGS, "utf8").trim());
  env.setFile(HUNG_TASK, "2");
  await env.start();
  watch = await env.watch({ tracer_name: "^hungtask$" });
}, 60_000);

afterAll(async () => {
  watch?.proc.kill();
  await env.cleanup();
}, 60_000);

describe.skipIf(!isRoot)("hungtask on the real kernel", () => {
  test("a writer blocked on a frozen filesystem: stored with its container, D-state stacks, streamed, counted", async () => {
    const stuck = env.containers.get("stuck")!;
    writer = env.runIn("stuck", `exec dd if=/dev/zero of=${mnt}/blocked bs=4k count=1`);
    await until(() => readFileSync(`/proc/${writer.pid}/stat`, "utf8").includes(") D "), 10_000, "writer in D state");

    const doc = await until(() => storedDocs(env.localDir, "hungtask")[0], 30_000, "hungtask document");
    expect(doc).toMatchObject({ tracer_name: "hungtask", tracer_type: "event", container_id: stuck.id, container_hostname: "stuck-0" });
    const data = doc.tracer_data;
    expect(data).toMatchObject({ pid: writer.pid, tgid: writer.pid, comm: "dd", hung_task_timeout_secs: 2 });
    expect(data.blocked_processes_stack).toContain(`task:dd state:D pid:${writer.pid} tgid:${writer.pid}`);
    // blocked in sb_start_write: the frozen superblock's percpu rwsem
    expect(data.blocked_processes_stack).toMatch(/percpu_rwsem_wait|percpu_down_read/);
    expect(typeof data.cpus_stack).toBe("string");
    if (!existsSync("/proc/sysrq-trigger")) expect(data.cpus_stack).toStartWith("not captured: /proc/sysrq-trigger missing");

    await until(() => watch.events().find((e) => e.data.tracer_id === doc.tracer_id), 10_000, "hungtask on the watch stream");
    // khungtaskd reports the task again every check: counted, but the backoff stores it once
    expect(await metricUntil(env.daemon!, "huatuo_bamai_hungtask_total", {}, 2)).toBeGreaterThanOrEqual(2);
    expect(storedDocs(env.localDir, "hungtask")).toHaveLength(1);
    const status = (await (await fetch(env.daemon!.url("/tracers"))).json()) as { data: Array<{ name: string; hook: string }> };
    expect(status.data.find((t) => t.name === "hungtask")!.hook).toBe("tp_btf:sched/sched_process_hang");
  }, 60_000);
});
