// Registers every metric collector: importing this module runs each collector file's registerTracer().
import "./arp";
import "./netdev";
import "./netdev_dcb";
import "./netdev_hw";
import "./netstat";
import "./qdisc";
import "./sockstat";
import "./tcp_memory";
