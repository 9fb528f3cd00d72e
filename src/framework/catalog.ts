// Imports every tracer module so each registers itself; the bundler needs these static imports to embed them.
import "../metrics/index";
import "../events/index";
import "../autotracing/index";
