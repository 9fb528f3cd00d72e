// Registers every kernel-event tracer: importing this module runs each tracer file's registerTracer().
import "./dropwatch";
import "./netdev_txqueue_timeout";
