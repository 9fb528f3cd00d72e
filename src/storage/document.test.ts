// The document shape and its time formats, in a +08:00 zone like the seed samples and in UTC.
import { afterEach, describe, expect, test } from "bun:test";
import type { Container } from "../pod/types";
import { buildDocument, newTracerId, parseJson, toJson } from "./document";
import { formatRfc3339Nano, formatTracerTime, parseTracerTime, wallClockNs } from "./time";

const savedTz = process.env.TZ;
afterEach(() => {
  process.env.TZ = savedTz;
});

const container: Container = {
  id: "d3f1a2b4c5e6",
  name: "app",
  hostname: "app-pod",
  namespace: "prod",
  qos: "guaranteed",
  type: "normal",
  cgroupPath: "",
  initPid: 0,
  netnsInode: 0,
  startedAt: 0,
  podName: "app-pod",
  podUid: "",
  labels: {},
  annotations: {},
};

// 2025-06-11 08:05:16.251152703 UTC
const NS = 1749629116251152703n;

describe("time formats", () => {
  test("local zone with offset, as the seed samples", () => {
    process.env.TZ = "Asia/Shanghai";
    expect(formatTracerTime(new Date(Number(NS / 1_000_000n)))).toBe("2025-06-11 16:05:16.251 +0800");
    expect(formatRfc3339Nano(NS)).toBe("2025-06-11T16:05:16.251152703+08:00");
  });

  test("UTC is written Z in RFC 3339 and +0000 in tracer_time, as Go does", () => {
    process.env.TZ = "UTC";
    expect(formatTracerTime(new Date(Number(NS / 1_000_000n)))).toBe("2025-06-11 08:05:16.251 +0000");
    expect(formatRfc3339Nano(NS)).toBe("2025-06-11T08:05:16.251152703Z");
  });

  test("negative offsets and round trip through parseTracerTime", () => {
    process.env.TZ = "America/New_York";
    const d = new Date(Date.UTC(2025, 0, 2, 3, 4, 5, 6));
    expect(formatTracerTime(d)).toBe("2025-01-01 22:04:05.006 -0500");
    expect(parseTracerTime(formatTracerTime(d))).toBe(d.getTime());
    expect(parseTracerTime("2025-06-11 16:05:16.251 +0800")).toBe(Number(NS / 1_000_000n));
    expect(parseTracerTime("yesterday")).toBeNaN();
  });

  test("the nanosecond clock follows the wall clock and moves forward", () => {
    const a = wallClockNs();
    const b = wallClockNs();
    expect(b).toBeGreaterThanOrEqual(a);
    expect(Math.abs(Number(a / 1_000_000n) - Date.now())).toBeLessThan(50);
  });
});

describe("buildDocument", () => {
  test("a host event: the seed's fields in order, no container fields", () => {
    process.env.TZ = "Asia/Shanghai";
    const doc = buildDocument(
      { hostname: "node-1", region: "dev" },
      { tracerName: "softirq_tracing", data: { offtime: 237328905, cpu: 1 }, time: new Date(Number(NS / 1_000_000n)) },
      NS,
    );
    expect(Object.keys(doc)).toEqual([
      "hostname",
      "region",
      "uploaded_time",
      "time",
      "tracer_name",
      "tracer_id",
      "tracer_time",
      "tracer_type",
      "tracer_data",
    ]);
    expect(doc).toMatchObject({
      uploaded_time: "2025-06-11T16:05:16.251152703+08:00",
      time: "2025-06-11 16:05:16.251 +0800",
      tracer_time: "2025-06-11 16:05:16.251 +0800",
      tracer_type: "event",
      tracer_data: { offtime: 237328905, cpu: 1 },
    });
    expect(doc.tracer_id).toMatch(/^[0-9a-f]{20}$/);
  });

  test("a container event carries the five container fields", () => {
    const doc = buildDocument(
      { hostname: "node-1", region: "dev" },
      { tracerName: "cpuidle", tracerType: "autotracing", data: {}, container },
    );
    expect(doc).toMatchObject({
      container_id: "d3f1a2b4c5e6",
      container_hostname: "app-pod",
      container_host_namespace: "prod",
      container_type: "normal",
      container_qos: "guaranteed",
      tracer_type: "autotracing",
    });
    expect(Object.keys(doc).indexOf("container_id")).toBe(4);
  });

  test("tracer ids do not repeat", () => {
    const ids = new Set(Array.from({ length: 10_000 }, newTracerId));
    expect(ids.size).toBe(10_000);
  });
});

describe("JSON with u64 values", () => {
  test("an integer beyond 2^53 survives parse and encode digit for digit", () => {
    const text = '{"banks_msr_status":9295429630892703744,"cpu":2,"ratio":0.5}';
    expect(toJson(parseJson(text))).toBe(text);
    expect(toJson({ a: 1n, b: [2n] }, 2)).toBe('{\n  "a": 1,\n  "b": [\n    2\n  ]\n}');
  });
});
