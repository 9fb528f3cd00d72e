// Pod discovery on cgroup v2 against the real kernel: kubelet-style cgroups in the cgroup2 mount (this hybrid host
// has it at /sys/fs/cgroup/unified) with real processes, read as a unified host would see them.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Logger } from "../src/log";
import type { CgroupLayout } from "../src/pod/cgroup";
import { CgroupFs } from "../src/pod/cgroup_reader";
import { KubeletClient } from "../src/pod/kubelet";
import { PodManager } from "../src/pod/manager";
import { fakeKubelet, KubeNode, podJson, podList, V2_ROOT, waitOwnNetns, type FakeKubelet, type FakePod } from "./support/cgroups";
import { startDaemon, workDir } from "./support/daemon";

const node = new KubeNode([V2_ROOT]);
const layout: CgroupLayout = { mode: "unified", v1: new Map(), unified: V2_ROOT };
let kubelet: FakeKubelet;
let pods: FakePod[];

beforeAll(async () => {
  const [a, b] = [crypto.randomUUID(), crypto.randomUUID()];
  pods = [
    { uid: a, name: "web-0", namespace: "shop", qos: "Burstable", containers: [
      node.addContainer({ naming: "systemd", qos: "Burstable", podUid: a, name: "app", cmd: ["sh", "-c", "while :; do :; done"] }),
    ] },
    { uid: b, name: "db-0", namespace: "data", qos: "Guaranteed", containers: [
      node.addContainer({ naming: "cgroupfs", qos: "Guaranteed", podUid: b, name: "db", cmd: ["unshare", "--net", "sleep", "600"] }),
    ] },
  ];
  await waitOwnNetns(pods[1]!.containers[0]!.pid);
  kubelet = fakeKubelet(podList(pods.map(podJson)));
});

afterAll(async () => {
  kubelet?.stop();
  await node.cleanup();
});

const podConfig = () => `[Pod]\nKubeletReadOnlyPort = ${kubelet.port}\nKubeletAuthorizedPort = 0\n`;

describe("cgroup v2 (unified) containers", () => {
  test("PodManager maps both namings in the cgroup2 tree; the reader returns v2 files", async () => {
    const cfg = { KubeletReadOnlyPort: kubelet.port, KubeletAuthorizedPort: 0, KubeletClientCertPath: "" };
    const m = new PodManager({ fetcher: new KubeletClient(cfg), layout, log: new Logger("test"), nodeHostname: "node" });
    expect(await m.syncOnce()).toBe(true);
    const byName = new Map(m.list().map((c) => [c.name, c]));
    expect(byName.size).toBe(2);
    for (const fc of pods.flatMap((p) => p.containers)) {
      expect(byName.get(fc.name)).toMatchObject({ id: fc.id, cgroupPath: fc.path, initPid: fc.pid });
      expect(byName.get(fc.name)!.netnsInode).toBe(statSync(`/proc/${fc.pid}/ns/net`).ino);
    }
    const fs = new CgroupFs(layout);
    const app = byName.get("app")!;
    expect(fs.dir(app, "cpu")).toEqual({ path: join(V2_ROOT, app.cgroupPath), version: 2 });
    await Bun.sleep(200);
    const stat = await fs.read(app, "cpu", "cpu.stat");
    const usage = Number(/^usage_usec (\d+)$/m.exec(stat!)![1]);
    expect(usage).toBeGreaterThan(50_000);
    // The file stays open between reads (kernfs renders it afresh each time): a later read sees the burner's progress.
    await Bun.sleep(50);
    expect(await fs.read(app, "cpu", "cpu.stat")).not.toBe(stat);
    expect(await fs.read(app, "memory", "no.such.file")).toBeUndefined();
  });

  test("the binary on a unified layout: /containers/json from the cgroup2 tree", async () => {
    // A root that looks like a pure-v2 host: mountinfo with cgroup2 at /sys/fs/cgroup, that path pointing at the real
    // cgroup2 mount, and the container processes' /proc entries.
    const root = workDir("huatuo-v2root-");
    mkdirSync(join(root, "proc/self"), { recursive: true });
    mkdirSync(join(root, "sys/fs"), { recursive: true });
    writeFileSync(join(root, "proc/self/mountinfo"), "32 22 0:27 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n");
    symlinkSync(V2_ROOT, join(root, "sys/fs/cgroup"));
    for (const fc of pods.flatMap((p) => p.containers)) symlinkSync(`/proc/${fc.pid}`, join(root, `proc/${fc.pid}`));
    const d = await startDaemon({ procfsPrefix: root, kubelet: true, config: podConfig() });
    let data: any[] = [];
    const deadline = Date.now() + 10_000;
    while (data.length < 2 && Date.now() < deadline) {
      data = ((await (await fetch(d.url("/containers/json"))).json()) as { data: any[] }).data;
      await Bun.sleep(100);
    }
    await d.stop();
    expect(await d.output()).toContain("cgroup_mode=unified");
    const byName = new Map(data.map((c) => [c.name, c]));
    for (const fc of pods.flatMap((p) => p.containers)) {
      expect(byName.get(fc.name)).toMatchObject({ id: fc.id, cgroup_path: `/${fc.path}`, init_pid: fc.pid });
      expect(byName.get(fc.name).net_namespace_inum).toBe(statSync(`/proc/${fc.pid}/ns/net`).ino);
    }
  });
});
