// [EventTracing] and [MetricCollector] keys of huatuo-bamai.conf: kernel-event thresholds and the
// include/exclude filters of metric collectors (unanchored regexes; "" = no filter).
import { fail, ok, type Refined } from "./checks";
import { bool, int, nonEmpty, oneOf, pairList, regex, section, strList } from "./dsl";

const positive = { above: 0 } as const;

/** Device list entries are full-match regexes (`^(?:entry)$`), so each must compile that way. */
function deviceEntry(entry: string): Refined<string> {
  const r = nonEmpty(entry);
  if ("error" in r) return r;
  try {
    new RegExp(`^(?:${entry})$`);
    return ok(entry);
  } catch (e) {
    return fail(`invalid device pattern ${JSON.stringify(entry)}: ${(e as Error).message}`);
  }
}

const deviceList = (doc: string) =>
  strList([], `${doc} Entries are full-match regexes; default [] = none.`, deviceEntry, "array of device regexes");

const VIRTUAL_DEVICES = "^(lo)|(docker\\w*)|(veth\\w*)$";

const netRxLatencySchema = section("net_rx_latency: receive-path latency of TCP packets.", {
  Driver2NetRx: int(5, "Latency in ms from driver to netif_receive_skb that is reported.", positive),
  Driver2TCP: int(10, "Latency in ms from driver to tcp_v4_rcv that is reported.", positive),
  Driver2Userspace: int(115, "Latency in ms from driver to the user-space copy that is reported.", positive),
  ExcludedContainerQos: strList(
    ["besteffort"],
    "Container QoS classes skipped: guaranteed, burstable, besteffort (case-insensitive); default is the shipped [\"besteffort\"].",
    oneOf(["guaranteed", "burstable", "besteffort"]),
    "array of guaranteed|burstable|besteffort",
  ),
  ExcludedHostNetnamespace: bool(true, "Skip packets of the host network namespace (watch containers only)."),
});

export const eventTracingSchema = section("Kernel event capture.", {
  IssuesList: pairList([], 'Known issues: [["name", "regex"], ...]; a net_rx_latency title matching regex is labelled name.'),
  Softirq: section("softirq: long softirq-disabled sections.", {
    DisabledThreshold: int(10000000, "Softirq-disabled time in ns that is reported (10 ms).", positive),
  }),
  MemoryReclaim: section("memory_reclaim_events: processes blocked in direct reclaim.", {
    BlockedThreshold: int(900000000, "Direct-reclaim blocked time in ns that is reported (900 ms).", positive),
  }),
  NetRxLatency: netRxLatencySchema,
  Netdev: section("netdev_events: link state changes.", {
    DeviceList: deviceList("Network devices watched for link events (the shipped file lists eth0, eth1, bond4, lo)."),
  }),
  Dropwatch: section("dropwatch: packet drops in the kernel.", {
    ExcludedNeighInvalidate: bool(true, "Ignore drops from neigh_invalidate (neighbour table expiry noise)."),
  }),
  Ras: section("ras: hardware errors (MCE, EDAC, GHES, PCIe AER, MCE threshold).", {
    MceThrBackoff: int(1800, "Minimum seconds between two saved MCE threshold (THR) events.", positive),
  }),
});

const includeExclude = (what: string, included = "", excluded = "") => ({
  Included: regex(included, `Regex of ${what} to collect; "" = all.`),
  Excluded: regex(excluded, `Regex of ${what} to skip; "" = none.`),
});

const vmstatSchema = section("memory_vmstat: host /proc/vmstat and container memory.stat fields.", {
  IncludedOnHost: regex(
    "allocstall|nr_active_anon|nr_active_file|nr_boost_pages|nr_dirty|nr_free_pages|nr_inactive_anon|nr_inactive_file|nr_kswapd_boost|nr_mlock|nr_shmem|nr_slab_reclaimable|nr_slab_unreclaimable|nr_unevictable|nr_writeback|numa_pages_migrated|pgdeactivate|pgrefill|pgscan_direct|pgscan_kswapd|pgsteal_direct|pgsteal_kswapd",
    "Regex of /proc/vmstat fields to collect; default is the shipped list.",
  ),
  ExcludedOnHost: regex("total", "Regex of /proc/vmstat fields to skip; default is the shipped \"total\"."),
  IncludedOnContainer: regex(
    "active_anon|active_file|dirty|inactive_anon|inactive_file|pgdeactivate|pgrefill|pgscan_direct|pgscan_kswapd|pgsteal_direct|pgsteal_kswapd|shmem|unevictable|writeback|pgscan_globaldirect|pgscan_globalkswapd|pgscan_cswapd|pgsteal_cswapd|pgsteal_globaldirect|pgsteal_globalkswapd",
    "Regex of container memory.stat fields to collect; default is the shipped list.",
  ),
  ExcludedOnContainer: regex("total", "Regex of container memory.stat fields to skip; default is the shipped \"total\"."),
});

export const metricCollectorSchema = section("Metric collectors: a value is kept if it matches Included and not Excluded.", {
  NetdevStats: section("Network interface statistics.", {
    EnableNetlink: bool(false, "Read statistics over netlink instead of /proc/net/dev (host only)."),
    DeviceIncluded: regex("", 'Regex of devices to collect; "" = all.'),
    DeviceExcluded: regex(VIRTUAL_DEVICES, "Regex of devices to skip; default skips lo, docker* and veth*."),
  }),
  NetdevDCB: section("netdev_dcb: DCB priority flow control counters.", {
    DeviceList: deviceList("Devices whose DCB PFC counters are collected (the shipped file lists eth0, eth1)."),
  }),
  NetdevHW: section("netdev_hw: hardware drop counters of NICs.", {
    DeviceList: deviceList("Devices whose hardware statistics are collected (the shipped file lists eth0, eth1)."),
  }),
  Qdisc: section("netdev_qdisc: queueing discipline statistics.", {
    DeviceIncluded: regex("", 'Regex of devices to collect; "" = all.'),
    DeviceExcluded: regex(VIRTUAL_DEVICES, "Regex of devices to skip; default skips lo, docker* and veth*."),
  }),
  Vmstat: vmstatSchema,
  MemoryEvents: section("memory_events: cgroup memory.events counters.", {
    ...includeExclude("memory events", "watermark_inc|watermark_dec"),
  }),
  Netstat: section("netstat: /proc/net/netstat and snmp counters, named <Proto>_<Name>.", {
    ...includeExclude("counters"),
  }),
  MountPointStat: section("Mount point statistics.", {
    MountPointsIncluded: regex("(^/home$)|(^/$)|(^/boot$)", "Regex of mount points to collect; default /, /home and /boot."),
  }),
});
