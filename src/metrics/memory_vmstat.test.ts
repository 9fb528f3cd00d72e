import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { defaultConfig } from "../config/schema";
import { setRootPrefix } from "../procfs/root";
import "./memory_vmstat";
import { createCollector, FIXTURES, removeTempRoots, scrape, stubContext, tempRoot, valueOf } from "./testing";

afterEach(() => setRootPrefix(""));
afterAll(removeTempRoots);

const hostKeys = (families: Array<{ name: string }>) =>
  families.map((f) => f.name.replace("huatuo_bamai_memory_vmstat_", ""));

describe("memory_vmstat collector", () => {
  test("emits the /proc/vmstat fields the default filter selects", async () => {
    setRootPrefix(FIXTURES);
    const families = await scrape("memory_vmstat", await createCollector("memory_vmstat"));
    expect(hostKeys(families)).toEqual([
      "nr_free_pages", "nr_mlock", "nr_inactive_anon", "nr_active_anon", "nr_inactive_file", "nr_active_file",
      "nr_unevictable", "nr_slab_reclaimable", "nr_slab_unreclaimable", "nr_dirty", "nr_writeback",
      "nr_writeback_temp", "nr_shmem", "nr_shmem_hugepages", "nr_shmem_pmdmapped", "nr_dirty_threshold",
      "nr_dirty_background_threshold", "allocstall_dma", "allocstall_dma32", "allocstall_normal",
      "allocstall_movable", "allocstall_device", "pgdeactivate", "pgrefill", "pgsteal_kswapd", "pgsteal_direct",
      "pgscan_kswapd", "pgscan_direct", "pgscan_direct_throttle", "numa_pages_migrated",
    ]);
    expect(families.every((f) => f.type === "gauge")).toBe(true);
    expect(families[0]!.help).toBe("/proc/vmstat nr_free_pages");
    expect(valueOf(families, "huatuo_bamai_memory_vmstat_nr_free_pages")).toBe(2345270);
    expect(valueOf(families, "huatuo_bamai_memory_vmstat_allocstall_movable")).toBe(37);
  });

  test("reads IncludedOnHost/ExcludedOnHost from the live config on each scrape", async () => {
    setRootPrefix(FIXTURES);
    const ctx = stubContext();
    const collector = await createCollector("memory_vmstat", ctx);
    const reloaded = defaultConfig();
    reloaded.MetricCollector.Vmstat.IncludedOnHost = "^pgscan";
    reloaded.MetricCollector.Vmstat.ExcludedOnHost = "throttle";
    ctx.config.set(reloaded);
    const families = await scrape("memory_vmstat", collector);
    expect(hostKeys(families)).toEqual([
      "pgscan_kswapd", "pgscan_direct", "pgscan_khugepaged", "pgscan_anon", "pgscan_file",
    ]);
  });

  test("a missing /proc/vmstat fails the scrape", async () => {
    setRootPrefix(tempRoot({}));
    await expect(scrape("memory_vmstat", await createCollector("memory_vmstat"))).rejects.toThrow();
  });
});
