// Registers every kernel-event tracer: importing this module runs each tracer file's registerTracer().
import "./dropwatch";
import "./hungtask";
import "./memory_reclaim_events";
import "./net_rx_latency";
import "./netdev_bonding_lacp";
import "./netdev_events";
import "./netdev_txqueue_timeout";
import "./oom";
import "./ras";
import "./softirq_tracing";
import "./softlockup";
