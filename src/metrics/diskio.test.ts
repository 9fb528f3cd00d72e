import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { setRootPrefix } from "../procfs/root";
import { iowaitPercent, parseDiskStats } from "./diskio";
import { createCollector, FIXTURES, removeTempRoots, scrape, tempRoot, valueOf, valuesOf, writeFiles } from "./testing";

afterEach(() => setRootPrefix(""));
afterAll(removeTempRoots);

describe("parseDiskStats", () => {
  const expected = {
    device: "sda", readsCompleted: 1, sectorsRead: 3, readTimeMs: 4, writesCompleted: 5, sectorsWritten: 7,
    writeTimeMs: 8, ioInProgress: 9,
  };

  test("reads the 11, 15 (4.18+) and 17 (5.5+) field layouts alike", () => {
    const base = "   8       0 sda 1 2 3 4 5 6 7 8 9 10 11";
    for (const line of [base, `${base} 12 13 14 15`, `${base} 12 13 14 15 16 17`]) {
      expect(parseDiskStats(`${line}\n`)).toEqual([expected]);
    }
  });

  test("skips short or malformed lines", () => {
    expect(parseDiskStats("   8       1 sda1 1 2 3 4\n\n   8 0 sdb 1 2 3 x 5 6 7 8 9 10 11\n")).toEqual([]);
  });
});

describe("iowaitPercent", () => {
  const t = (iowait: number, idle: number) => ({
    user: 0, nice: 0, system: 0, idle, iowait, irq: 0, softirq: 0, steal: 0,
  });

  test("iowait share of all CPU time between samples", () => {
    expect(iowaitPercent(t(10, 100), t(20, 190))).toBe(10);
    expect(iowaitPercent(t(10, 100), t(10, 100))).toBe(0);
  });

  test("undefined when iowait went back (NO_HZ)", () => {
    expect(iowaitPercent(t(10, 100), t(5, 200))).toBeUndefined();
  });
});

describe("diskio collector", () => {
  test("emits per-device counters and iowait from the fixtures", async () => {
    setRootPrefix(FIXTURES);
    const families = await scrape("diskio", await createCollector("diskio"));
    const name = (m: string) => `huatuo_bamai_diskio_${m}`;
    expect(families.map((f) => [f.name, f.type])).toEqual([
      [name("read_requests_total"), "counter"],
      [name("write_requests_total"), "counter"],
      [name("read_bytes_total"), "counter"],
      [name("written_bytes_total"), "counter"],
      [name("read_time_seconds_total"), "counter"],
      [name("write_time_seconds_total"), "counter"],
      [name("io_in_progress"), "gauge"],
      [name("disk_iowait_percent"), "gauge"],
    ]);
    const nvme = { device: "nvme0n1" };
    expect(valuesOf(families, name("read_requests_total")).size).toBe(7);
    expect(valueOf(families, name("read_requests_total"), nvme)).toBe(1843921);
    expect(valueOf(families, name("read_bytes_total"), nvme)).toBe(102912876 * 512);
    expect(valueOf(families, name("written_bytes_total"), nvme)).toBe(2398370288 * 512);
    expect(valueOf(families, name("read_time_seconds_total"), nvme)).toBe(412.856);
    expect(valueOf(families, name("write_time_seconds_total"), nvme)).toBe(23945.133);
    expect(valueOf(families, name("io_in_progress"), nvme)).toBe(2);
    expect(valueOf(families, name("disk_iowait_percent"))).toBe(0);
  });

  test("iowait is measured between scrapes", async () => {
    const stat = (iowait: number, idle: number) => `cpu  100 0 100 ${idle} ${iowait} 0 0 0 0 0\n`;
    const root = tempRoot({ "proc/diskstats": "", "proc/stat": stat(100, 1000) });
    setRootPrefix(root);
    const collector = await createCollector("diskio");
    await scrape("diskio", collector);
    writeFiles(root, { "proc/stat": stat(150, 1450) });
    const families = await scrape("diskio", collector);
    expect(valueOf(families, "huatuo_bamai_diskio_disk_iowait_percent")).toBe(10);
    expect(families).toHaveLength(1);
  });

  test("a missing /proc/diskstats fails the scrape", async () => {
    setRootPrefix(tempRoot({ "proc/stat": "cpu  1 2 3 4 5 6 7 8 0 0\n" }));
    await expect(scrape("diskio", await createCollector("diskio"))).rejects.toThrow();
  });
});
