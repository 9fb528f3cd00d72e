// [AutoTracing] keys of huatuo-bamai.conf: thresholds that start a detector's on-the-spot tracing
// (cpuidle, cpusys, dload, iotracing, memburst) and the known-issue labels for their records.
import { enumOf, float, int, pairList, regex, section, tableList } from "./dsl";

const percent = { min: 0, max: 100 } as const;
const positive = { above: 0 } as const;

const seconds = (def: number, doc: string) => int(def, `${doc} (seconds).`, positive);

const filterRule = (doc: string) =>
  tableList(doc, {
    Field: enumOf(
      ["container_host_namespace", "container_hostname", "container_qos"],
      "container_hostname",
      "Container attribute the rule looks at.",
    ),
    Pattern: regex("", "Regex matched (unanchored) against that attribute."),
  });

const cpuIdleSchema = section("cpuidle: sudden high CPU usage in a container.", {
  UserThreshold: int(75, "User CPU usage % that, with DeltaUserThreshold, triggers profiling.", percent),
  SysThreshold: int(45, "System CPU usage % that, with DeltaSysThreshold, triggers profiling.", percent),
  UsageThreshold: int(
    90,
    "Total (user + system) CPU usage % that, with DeltaUsageThreshold, triggers profiling (the guide's comment says 45; its value is 90).",
    percent,
  ),
  DeltaUserThreshold: int(45, "Rise of user CPU usage % within one interval.", percent),
  DeltaSysThreshold: int(20, "Rise of system CPU usage % within one interval.", percent),
  DeltaUsageThreshold: int(55, "Rise of total CPU usage % within one interval.", percent),
  Interval: seconds(10, "Sampling interval of container CPU usage"),
  IntervalTracing: seconds(1800, "Per-container cooldown between two tracings"),
  RunTracingToolTimeout: seconds(10, "Timeout of one perf profiling run"),
  Filter: section("Which containers cpuidle watches: must match every Included rule and not every Excluded rule.", {
    Included: filterRule("[[AutoTracing.CPUIdle.Filter.Included]] rules {Field, Pattern}; none = all containers."),
    Excluded: filterRule("[[AutoTracing.CPUIdle.Filter.Excluded]] rules {Field, Pattern}; none = exclude nothing."),
  }),
});

const cpuSysSchema = section("cpusys: sudden high system CPU usage on the host.", {
  SysThreshold: int(45, "Host system CPU usage % that, with DeltaSysThreshold, triggers profiling.", percent),
  DeltaSysThreshold: int(20, "Rise of host system CPU usage % within one interval.", percent),
  Interval: seconds(10, "Sampling interval of host CPU usage"),
  RunTracingToolTimeout: seconds(10, "Timeout of one perf profiling run"),
});

const dloadSchema = section("dload: D-state (uninterruptible) task load in containers.", {
  ThresholdLoad: float(5, "Container D-state load average (EMA) that triggers stack collection.", { min: 0 }),
  Interval: seconds(10, "Sampling interval of container load"),
  IntervalTracing: int(1800, "Per-container cooldown between two tracings (seconds, 0 = none).", { min: 0 }),
});

const ioTracingSchema = section("iotracing: disk I/O bursts.", {
  WbpsThreshold: int(1500, "Write throughput in MB/s that triggers I/O tracing (NVMe also needs UtilThreshold).", positive),
  RbpsThreshold: int(2000, "Read throughput in MB/s that triggers I/O tracing (NVMe also needs UtilThreshold).", positive),
  UtilThreshold: int(90, "Disk utilisation % that triggers I/O tracing.", { above: 0, max: 100 }),
  AwaitThreshold: int(100, "Average I/O wait in ms that triggers I/O tracing.", positive),
  RunTracingToolTimeout: seconds(10, "Timeout of one I/O tracing run"),
  MaxProcDump: int(10, "Processes listed in an I/O tracing record.", positive),
  MaxFilesPerProcDump: int(5, "Files listed per process in an I/O tracing record.", positive),
});

const memoryBurstSchema = section("memburst: sudden host memory usage growth.", {
  DeltaMemoryBurst: int(100, "Growth % of memory usage over the window that triggers (100 = doubled).", positive),
  DeltaAnonThreshold: int(70, "Anonymous memory, as a percentage of MemTotal, that a burst must also reach.", percent),
  Interval: seconds(10, "Sampling interval of host memory usage"),
  IntervalTracing: seconds(1800, "Cooldown between two tracings"),
  SlidingWindowLength: int(
    60,
    "Samples kept in the sliding window (60 x Interval 10 s = 600 s); the guide calls it seconds.",
    positive,
  ),
  DumpProcessMaxNum: int(10, "Processes dumped in a memburst record.", positive),
});

export const autoTracingSchema = section("Automatic tracing triggered by thresholds.", {
  IssuesList: pairList([], 'Known issues: [["name", "regex"], ...]; a dload stack matching regex is labelled name.'),
  CPUIdle: cpuIdleSchema,
  CPUSys: cpuSysSchema,
  Dload: dloadSchema,
  IOTracing: ioTracingSchema,
  MemoryBurst: memoryBurstSchema,
});
