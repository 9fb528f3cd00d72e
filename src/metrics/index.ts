// Registers every metric collector: importing this module runs each collector file's registerTracer().
import "./arp";
import "./cpu_stat";
import "./cpu_util";
import "./diskio";
import "./loadavg";
import "./memory_buddyinfo";
import "./memory_events";
import "./memory_vmstat";
import "./mountpoint_perm";
import "./netdev";
import "./netdev_dcb";
import "./netdev_hw";
import "./netstat";
import "./qdisc";
import "./sockstat";
import "./tcp_memory";
import "./runqlat";
