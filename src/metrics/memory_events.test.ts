import { afterAll, afterEach, describe, expect, test } from "bun:test";
import { setRootPrefix } from "../procfs/root";
import "./memory_events";
import {
  FIXTURES,
  removeTempRoots,
  scrape,
  type StubOptions,
  tempRoot,
  TEST_CONTAINER_LABELS,
  testContainer,
  valueOf,
} from "./testing";

afterEach(() => setRootPrefix(""));
afterAll(removeTempRoots);

const coredns = testContainer();
const containerLabels = TEST_CONTAINER_LABELS;
const allEvents: StubOptions = {
  containers: [coredns],
  config: (c) => {
    c.MetricCollector.MemoryEvents.Included = "";
  },
};

describe("memory_events collector", () => {
  test("emits nothing for the host alone", async () => {
    setRootPrefix(FIXTURES);
    expect(await scrape("memory_events")).toEqual([]);
  });

  test("emits container_<key> for each memory.events key of a container (cgroup v2 fixtures)", async () => {
    setRootPrefix(FIXTURES);
    const families = await scrape("memory_events", allEvents);
    expect(families.map((f) => f.name)).toEqual([
      "huatuo_bamai_memory_events_container_low",
      "huatuo_bamai_memory_events_container_high",
      "huatuo_bamai_memory_events_container_max",
      "huatuo_bamai_memory_events_container_oom",
      "huatuo_bamai_memory_events_container_oom_kill",
      "huatuo_bamai_memory_events_container_oom_group_kill",
    ]);
    expect(families.every((f) => f.type === "gauge")).toBe(true);
    expect(families[2]!.help).toBe("memory events max");
    expect(valueOf(families, "huatuo_bamai_memory_events_container_max", containerLabels)).toBe(12);
    expect(valueOf(families, "huatuo_bamai_memory_events_container_oom_kill", containerLabels)).toBe(1);
  });

  test("applies the default Included filter (vendor watermark keys only)", async () => {
    setRootPrefix(FIXTURES);
    expect(await scrape("memory_events", { containers: [coredns] })).toEqual([]);
  });

  test("skips non-normal containers and containers without memory.events", async () => {
    setRootPrefix(FIXTURES);
    const options: StubOptions = {
      containers: [testContainer({ type: "sidecar" }), testContainer({ id: "gone", cgroupPath: "kubepods/gone" })],
      config: (c) => {
        c.MetricCollector.MemoryEvents.Included = "";
      },
    };
    expect(await scrape("memory_events", options)).toEqual([]);
  });

  test("reads the memory hierarchy on cgroup v1", async () => {
    const events = `sys/fs/cgroup/memory/${coredns.cgroupPath}/memory.events`;
    setRootPrefix(tempRoot({ [events]: "oom 3\nwatermark_inc 7\n" }));
    const families = await scrape("memory_events", { containers: [coredns] });
    expect(families.map((f) => f.name)).toEqual(["huatuo_bamai_memory_events_container_watermark_inc"]);
    expect(valueOf(families, "huatuo_bamai_memory_events_container_watermark_inc", containerLabels)).toBe(7);
  });
});
