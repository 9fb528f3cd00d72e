import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { setRootPrefix } from "../procfs/root";
import { parseMountInfo } from "./mountpoint_perm";
import { createCollector, FIXTURES, removeTempRoots, scrape, stubContext, tempRoot, valuesOf } from "./testing";

afterEach(() => setRootPrefix(""));
afterAll(removeTempRoots);

describe("parseMountInfo", () => {
  test("ro comes from the per-mount options, not the superblock's", () => {
    const text =
      "28 1 253:0 / / rw,relatime shared:1 - ext4 /dev/vda1 ro,errors=remount-ro\n" +
      "61 28 259:2 / /boot ro,relatime shared:33 - ext4 /dev/vda2 rw\n";
    expect(parseMountInfo(text)).toEqual([
      { mountPoint: "/", readOnly: false },
      { mountPoint: "/boot", readOnly: true },
    ]);
  });

  test("decodes octal escapes and lets the later (visible) mount of a path win", () => {
    const text =
      "91 28 0:49 / /mnt/backup\\040disk rw,relatime - tmpfs tmpfs rw\n" +
      "92 28 0:50 / /data rw,relatime - xfs /dev/sdb rw\n" +
      "93 92 0:51 / /data ro,relatime - xfs /dev/sdc ro\n" +
      "short line\n";
    expect(parseMountInfo(text)).toEqual([
      { mountPoint: "/mnt/backup disk", readOnly: false },
      { mountPoint: "/data", readOnly: true },
    ]);
  });
});

describe("mountpoint_perm collector", () => {
  const ro = "huatuo_bamai_mountpoint_perm_ro";

  test("emits ro{mountpoint} for the default /, /home and /boot", async () => {
    setRootPrefix(FIXTURES);
    const families = await scrape("mountpoint_perm", await createCollector("mountpoint_perm"));
    expect(families.map((f) => [f.name, f.type])).toEqual([[ro, "gauge"]]);
    expect([...valuesOf(families, ro)]).toEqual([
      ["mountpoint=/", 0],
      ["mountpoint=/boot", 1],
      ["mountpoint=/home", 0],
    ]);
  });

  test("an empty MountPointsIncluded selects every mount point", async () => {
    setRootPrefix(FIXTURES);
    const ctx = stubContext({
      config: (c) => {
        c.MetricCollector.MountPointStat.MountPointsIncluded = "";
      },
    });
    const values = valuesOf(await scrape("mountpoint_perm", await createCollector("mountpoint_perm", ctx)), ro);
    expect(values.size).toBe(20);
    expect(values.get("mountpoint=/mnt/backup disk")).toBe(0);
    expect(values.get("mountpoint=/snap/core22/1663")).toBe(1);
  });

  test("a missing mountinfo fails the scrape", async () => {
    setRootPrefix(tempRoot({}));
    await expect(scrape("mountpoint_perm", await createCollector("mountpoint_perm"))).rejects.toThrow();
  });
});
