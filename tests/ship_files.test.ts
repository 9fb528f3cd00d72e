// What the package and the DaemonSet ship besides the binary: the systemd unit (systemd-analyze verify, limits in step
// with [RuntimeCgroup]), the environment file, the preset, the system config transformation and the example manifest.
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfigText } from "../src/config/load";
import { SYSTEM_STORAGE_PATH, systemConfig } from "../scripts/rpm/system_conf";
import { BINARY, REPO } from "./support/daemon";

const read = (path: string) => readFileSync(join(REPO, path), "utf8");
const UNIT = read("scripts/rpm/huatuo-bamai.service");
const REPO_CONFIG = read("huatuo-bamai.conf");
const DEFAULTS = parseConfigText("", "defaults");

/** Values of a key in the unit (a key may repeat), without comments. */
function unitValues(key: string): string[] {
  return UNIT.split("\n").flatMap((line) => (line.startsWith(`${key}=`) ? [line.slice(key.length + 1)] : []));
}

describe("systemd unit", () => {
  test("systemd-analyze verify reports nothing", () => {
    // verify checks that ExecStart's program exists: point it at the built binary, the only change.
    const dir = mkdtempSync(join(tmpdir(), "huatuo-unit-"));
    const unit = join(dir, "huatuo-bamai.service");
    writeFileSync(unit, UNIT.replaceAll("/usr/bin/huatuo-bamai", BINARY));
    const result = Bun.spawnSync(["systemd-analyze", "verify", unit], { stdout: "pipe", stderr: "pipe" });
    rmSync(dir, { recursive: true });
    // verify exits 0 even on unknown keys and bad values; its warnings are the failure.
    expect(result.stderr.toString() + result.stdout.toString()).toBe("");
    expect(result.exitCode).toBe(0);
  });

  test("starts the packaged binary on the packaged config, with readiness and a real reload", () => {
    expect(unitValues("Type")).toEqual(["notify"]);
    const [execStart] = unitValues("ExecStart");
    expect(execStart).toStartWith("/usr/bin/huatuo-bamai run --config /etc/huatuo-bamai/huatuo-bamai.conf ");
    expect(execStart).toContain("--region ${HUATUO_REGION}");
    expect(execStart).toContain("--pid-file /run/huatuo-bamai/");
    expect(execStart).not.toContain("--enable-cgroup");
    expect(unitValues("ExecReload")).toEqual(["/bin/kill -HUP $MAINPID"]);
    expect(unitValues("EnvironmentFile")).toEqual(["-/etc/sysconfig/huatuo-bamai"]);
    expect(unitValues("WorkingDirectory")).toEqual([SYSTEM_STORAGE_PATH]);
    expect(unitValues("StateDirectory")).toEqual(["huatuo-bamai"]);
    expect(unitValues("RuntimeDirectory")).toEqual(["huatuo-bamai"]);
    expect(unitValues("RestartPreventExitStatus")).toEqual(["2"]);
  });

  test("limits match the [RuntimeCgroup] defaults; nothing that breaks Bun", () => {
    expect(unitValues("CPUQuota")).toEqual([`${DEFAULTS.RuntimeCgroup.LimitCPU * 100}%`]);
    expect(unitValues("MemoryMax")).toEqual([`${DEFAULTS.RuntimeCgroup.LimitMem / 1024}G`]);
    expect(unitValues("LimitMEMLOCK")).toEqual(["infinity"]);
    expect(unitValues("MemoryDenyWriteExecute")).toEqual([]);
    expect(unitValues("LimitAS")).toEqual([]);
  });

  test("the environment file sets the default region; the preset does not enable", () => {
    expect(read("scripts/rpm/huatuo-bamai.sysconfig")).toContain("\nHUATUO_REGION=default\n");
    const rules = read("scripts/rpm/90-huatuo-bamai.preset").split("\n").filter((l) => l && !l.startsWith("#"));
    expect(rules).toEqual(["disable huatuo-bamai.service"]);
  });
});

describe("system config", () => {
  const system = systemConfig(REPO_CONFIG);

  test("is the repository's config with the storage path set, nothing else", () => {
    const parsed = parseConfigText(system, "system.conf");
    expect(parsed.Storage.LocalFile.Path).toBe(SYSTEM_STORAGE_PATH);
    const expected = parseConfigText(REPO_CONFIG, "huatuo-bamai.conf");
    expected.Storage.LocalFile.Path = SYSTEM_STORAGE_PATH;
    expect(parsed).toEqual(expected);
    const before = REPO_CONFIG.split("\n");
    const after = system.split("\n");
    expect(after.filter((line) => !before.includes(line))).toEqual([
      '# Set by the package (the default is "huatuo-local", relative to the working directory):',
      'Path = "/var/lib/huatuo-bamai"',
    ]);
    expect(before.filter((line) => !after.includes(line))).toEqual(['# Path = "huatuo-local"']);
  });

  test("replaces a Path that is already set, and refuses what it cannot place", () => {
    const set = '[Storage.LocalFile]\nPath = "/srv/events"\n[Pod]\n';
    expect(parseConfigText(systemConfig(set), "x").Storage.LocalFile.Path).toBe(SYSTEM_STORAGE_PATH);
    expect(() => systemConfig("[Log]\n")).toThrow("no [Storage.LocalFile] section");
    expect(() => systemConfig("[Storage.LocalFile]\n[Pod]\n# Path = \"x\"\n")).toThrow("found 0");
    expect(() => systemConfig('[Storage.LocalFile]\n# Path = "a"\nPath = "b"\n')).toThrow("found 2");
  });
});

describe("DaemonSet example", () => {
  // Free-form Kubernetes objects: read as plain JSON-like values.
  const docs = Bun.YAML.parse(read("deploy/huatuo-bamai-daemonset.yaml")) as any[];
  const configMap = docs.find((d) => d.kind === "ConfigMap");
  const daemonSet = docs.find((d) => d.kind === "DaemonSet");
  const pod = daemonSet.spec.template.spec;
  const container = pod.containers[0];

  test("its ConfigMap is a valid config storing events on the node", () => {
    const config = parseConfigText(configMap.data["huatuo-bamai.conf"], "configmap");
    expect(config.Storage.LocalFile.Path).toBe(SYSTEM_STORAGE_PATH);
    const mount = container.volumeMounts.find((m: { name: string }) => m.name === "config");
    expect(container.args).toContain(`--config=${mount.mountPath}/huatuo-bamai.conf`);
    const events = pod.volumes.find((v: { name: string }) => v.name === "events");
    expect(events.hostPath.path).toBe(SYSTEM_STORAGE_PATH);
  });

  test("privileged on the host's PID and network namespaces, scraped on 19704, limits as [RuntimeCgroup]", () => {
    expect(pod.hostPID).toBe(true);
    expect(pod.hostNetwork).toBe(true);
    expect(container.securityContext.privileged).toBe(true);
    expect(daemonSet.spec.template.metadata.annotations).toEqual({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "19704",
      "prometheus.io/path": "/metrics",
    });
    expect(container.resources.limits).toEqual({
      cpu: String(DEFAULTS.RuntimeCgroup.LimitCPU),
      memory: `${DEFAULTS.RuntimeCgroup.LimitMem / 1024}Gi`,
    });
    const hostPaths = pod.volumes.filter((v: { hostPath?: unknown }) => v.hostPath).map((v: any) => v.hostPath.path);
    expect(hostPaths.sort()).toEqual(["/run/huatuo-bamai", "/sys", SYSTEM_STORAGE_PATH].sort());
  });
});
