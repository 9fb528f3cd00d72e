// Kubelet cgroup path naming (cgroupfs and systemd drivers, per runtime) and the kubepods scan on a temp tree.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expectedCgroupPaths, findExpectedPath, idFromCgroupName, scanKubepods } from "./cgroup_paths";

const ID = "a".repeat(64);
const UID = "3f1c2a7e-58b4-4c0e-9d61-2b8e0c7f4a19";
const roots: string[] = [];
afterAll(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })));

function tree(dirs: string[]): string {
  const root = mkdtempSync(join(tmpdir(), "huatuo-cg-"));
  roots.push(root);
  for (const d of dirs) mkdirSync(join(root, d), { recursive: true });
  return root;
}

describe("expectedCgroupPaths", () => {
  test("burstable: cgroupfs then systemd scopes", () => {
    const paths = expectedCgroupPaths(UID, "burstable", ID);
    expect(paths[0]).toBe(`kubepods/burstable/pod${UID}/${ID}`);
    const uid = UID.replaceAll("-", "_");
    expect(paths).toContain(
      `kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid}.slice/cri-containerd-${ID}.scope`,
    );
    expect(paths).toContain(`kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid}.slice/docker-${ID}.scope`);
    expect(paths).toContain(`kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid}.slice/crio-${ID}.scope`);
  });

  test("guaranteed pods sit directly under kubepods", () => {
    const paths = expectedCgroupPaths(UID, "guaranteed", ID);
    expect(paths[0]).toBe(`kubepods/pod${UID}/${ID}`);
    expect(paths[1]).toBe(`kubepods.slice/kubepods-pod${UID.replaceAll("-", "_")}.slice/cri-containerd-${ID}.scope`);
  });

  test("findExpectedPath picks the one that exists", () => {
    const path = `kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod${UID.replaceAll("-", "_")}.slice/crio-${ID}.scope`;
    const root = tree([path]);
    expect(findExpectedPath(root, UID, "besteffort", ID)).toBe(path);
    expect(findExpectedPath(root, UID, "burstable", ID)).toBeUndefined();
  });
});

describe("idFromCgroupName", () => {
  test("runtime naming variants", () => {
    expect(idFromCgroupName(ID)).toBe(ID);
    expect(idFromCgroupName(`cri-containerd-${ID}.scope`)).toBe(ID);
    expect(idFromCgroupName(`docker-${ID}.scope`)).toBe(ID);
    expect(idFromCgroupName(`crio-${ID}`)).toBe(ID);
    expect(idFromCgroupName(`crio-conmon-${ID}.scope`)).toBeUndefined();
    expect(idFromCgroupName(`pod${UID}`)).toBeUndefined();
    expect(idFromCgroupName(`x${ID}`)).toBeUndefined();
  });
});

describe("scanKubepods", () => {
  test("finds containers under a custom cgroup root and ignores trees without kubepods", () => {
    const other = "b".repeat(64);
    const root = tree([
      `kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod1.slice/cri-containerd-${ID}.scope`,
      `system.slice/containerd.service/${other}`,
      `kubepods/besteffort/pod2/crio-conmon-${other}`,
    ]);
    const found = scanKubepods(root);
    expect(found.get(ID)).toBe(`kubelet.slice/kubelet-kubepods.slice/kubelet-kubepods-pod1.slice/cri-containerd-${ID}.scope`);
    expect(found.has(other)).toBe(false);
  });

  test("a missing root scans to nothing", () => {
    expect(scanKubepods("/nonexistent/huatuo").size).toBe(0);
  });
});
