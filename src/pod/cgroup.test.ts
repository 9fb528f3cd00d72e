// Cgroup mode detection from mountinfo text: legacy, hybrid, unified, and the controller → hierarchy mapping.
import { describe, expect, test } from "bun:test";
import { controllerDir, layoutFromMountinfo, layoutFromTree, parseMountinfo, referenceRoot } from "./cgroup";

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid shared:9 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
38 31 0:35 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate`;

const UNIFIED = `22 28 0:21 / /sys rw - sysfs sysfs rw
32 22 0:27 / /sys/fs/cgroup rw,nosuid shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot`;

const LEGACY = HYBRID.split("\n").slice(0, 5).join("\n");

describe("layoutFromMountinfo", () => {
  test("hybrid: v1 controllers plus the cgroup2 mount; controllers resolve to v1", () => {
    const layout = layoutFromMountinfo(HYBRID);
    expect(layout.mode).toBe("hybrid");
    expect(layout.unified).toBe("/sys/fs/cgroup/unified");
    expect(controllerDir(layout, "cpuacct")).toEqual({ root: "/sys/fs/cgroup/cpu,cpuacct", version: 1 });
    expect(controllerDir(layout, "io")).toEqual({ root: "/sys/fs/cgroup/blkio", version: 1 });
    // Not bound on v1: served by the cgroup2 mount.
    expect(controllerDir(layout, "hugetlb")).toEqual({ root: "/sys/fs/cgroup/unified", version: 2 });
    expect(layout.v1.has("xattr")).toBe(false);
    expect(referenceRoot(layout)).toBe("/sys/fs/cgroup/memory");
  });

  test("legacy: no cgroup2 mount", () => {
    const layout = layoutFromMountinfo(LEGACY);
    expect(layout.mode).toBe("legacy");
    expect(controllerDir(layout, "hugetlb")).toBeUndefined();
  });

  test("unified: every controller under the one tree", () => {
    const layout = layoutFromMountinfo(UNIFIED);
    expect(layout.mode).toBe("unified");
    expect(controllerDir(layout, "memory")).toEqual({ root: "/sys/fs/cgroup", version: 2 });
    expect(referenceRoot(layout)).toBe("/sys/fs/cgroup");
  });

  test("a named-only v1 hierarchy beside cgroup2 is still unified", () => {
    const text = `${UNIFIED}\n50 32 0:40 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd`;
    expect(layoutFromMountinfo(text).mode).toBe("unified");
  });

  test("no cgroup mounts and garbage lines", () => {
    expect(layoutFromMountinfo("garbage\n\n1 2 3").mode).toBe("none");
  });

  test("mount points are resolved (procfs prefix) and octal escapes undone", () => {
    const layout = layoutFromMountinfo(UNIFIED, (p) => `/fx${p}`);
    expect(layout.unified).toBe("/fx/sys/fs/cgroup");
    expect(parseMountinfo("1 2 0:1 / /a\\040b rw - tmpfs tmpfs rw")[0]!.point).toBe("/a b");
  });
});

describe("layoutFromTree (no cgroup mounts in mountinfo)", () => {
  test("the v2 fixture tree and the real v1 tree", () => {
    const fixtures = `${import.meta.dir}/../../fixtures/sys/fs/cgroup`;
    expect(layoutFromTree(fixtures)).toMatchObject({ mode: "unified", unified: fixtures });
    const v1 = layoutFromTree("/sys/fs/cgroup");
    expect(v1.mode).toBe("legacy");
    expect(controllerDir(v1, "memory")).toEqual({ root: "/sys/fs/cgroup/memory", version: 1 });
    expect(layoutFromTree("/nonexistent").mode).toBe("none");
  });
});
