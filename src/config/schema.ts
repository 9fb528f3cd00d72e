// The huatuo-bamai.conf schema: every key of the user guide's configuration guide with its seed default,
// plus our [HTTPServer] extension. The `Config` type is inferred from it.
import { fail, ok, type Refined } from "./checks";
import {
  bool,
  enumOf,
  float,
  int,
  listenAddress,
  nonEmpty,
  section,
  str,
  strList,
  urlList,
  type Infer,
} from "./dsl";
import { autoTracingSchema } from "./schema_autotracing";
import { eventTracingSchema, metricCollectorSchema } from "./schema_collectors";
import { defaultOf, listKeys, type KeyDoc } from "./walk";

const positive = { above: 0 } as const;
const port = { min: 0, max: 65535 } as const;

/** Either one PEM with certificate and key, or "cert,key". */
function certPaths(text: string): Refined<string> {
  if (text.trim() === "") return ok(text);
  const parts = text.split(",").map((p) => p.trim());
  if (parts.length <= 2 && parts.every((p) => p !== "")) return ok(text);
  return fail(`must be "cert.pem" or "cert.crt,key.key" (one or two comma-separated paths), got ${JSON.stringify(text)}`);
}

const logSchema = section("Logging.", {
  Level: enumOf(["Debug", "Info", "Warn", "Error", "Panic"], "Info", "Log level (case-insensitive): Debug, Info, Warn, Error, Panic."),
  File: str("", "Log file path; empty writes logs to stdout."),
});

const runtimeCgroupSchema = section("Self resource limits, applied with --enable-cgroup.", {
  LimitInitCPU: float(0.5, "CPU cores the agent may use while starting up.", positive),
  LimitCPU: float(2.0, "CPU cores the agent may use once started.", positive),
  LimitMem: int(2048, "Memory limit of the agent in MB.", positive),
});

const esSchema = section(
  "Elasticsearch/OpenSearch storage: enabled when Address, Username and Password are all set, disabled when all are empty.",
  {
    Address: urlList(
      "",
      'Comma-separated http(s) URLs of the cluster, e.g. "http://127.0.0.1:9200"; empty (default) keeps ES storage off.',
    ),
    Index: str("huatuo_bamai", "Index that holds the agent's documents.", nonEmpty),
    Username: str("", "Basic-auth user name; no default."),
    Password: str("", "Basic-auth password; no default."),
    BulkSize: int(5, "Extension: largest _bulk request body in MB; a batch this big is sent at once.", positive),
    FlushInterval: int(1, "Extension: seconds a smaller batch waits before it is sent.", positive),
    BacklogSize: int(
      64,
      "Extension: MB of documents held in memory while the cluster is unreachable; beyond it new ones are dropped (counted).",
      positive,
    ),
    InsecureSkipVerify: bool(true, "Extension: accept any https certificate (self-signed, as the user guide's examples)."),
  },
  esAllOrNothing,
);

/** A half-configured ES store is a mistake, never a silent "off": name what is missing. */
function esAllOrNothing(es: { Address: string; Username: string; Password: string }) {
  const keys = ["Address", "Username", "Password"] as const;
  const empty = keys.filter((k) => es[k].trim() === "");
  if (empty.length === 0 || empty.length === keys.length) return [];
  const set = keys.filter((k) => !empty.includes(k));
  const verb = empty.length === 1 ? "is" : "are";
  return [
    {
      message:
        `${empty.join(" and ")} ${verb} empty but ${set.join(" and ")} ${set.length === 1 ? "is" : "are"} set; ` +
        "set all of Address, Username and Password to enable Elasticsearch storage, or leave all empty to disable it",
    },
  ];
}

const storageSchema = section("Where events and autotracing records are stored.", {
  ES: esSchema,
  LocalFile: section("Local file storage, one rotating file per tracer.", {
    Path: str("huatuo-local", "Directory for record files; empty disables local files."),
    RotationSize: int(100, "Size in MB at which a tracer's record file is rotated.", positive),
    MaxRotation: int(10, "Rotated files kept per tracer; older ones are deleted.", positive),
  }),
});

const podSchema = section("Pod discovery from the local kubelet; an absent kubelet only means no container labels.", {
  KubeletReadOnlyPort: int(10255, "Kubelet read-only HTTP port; 0 disables it.", port),
  KubeletAuthorizedPort: int(10250, "Kubelet HTTPS port (client certificate auth); 0 disables it.", port),
  KubeletClientCertPath: str(
    "/etc/kubernetes/pki/apiserver-kubelet-client.crt,/etc/kubernetes/pki/apiserver-kubelet-client.key",
    "Kubelet client certificate and key: \"cert,key\" or one PEM holding both; default is the seed's kubeadm path.",
    certPaths,
  ),
});

const eventsWatchSchema = section("The POST /v1/events/watch SSE stream.", {
  MaxClients: int(100, "Concurrent watch clients; more are refused with HTTP 429.", positive),
  KeepAliveInterval: int(30, "Seconds between SSE ': ping' comments sent to each client.", positive),
  BacklogSize: int(1000, "Extension: recent events kept for clients that resume with Last-Event-ID.", positive),
  ClientQueueSize: int(
    256,
    "Extension: events a client may leave unread while new ones arrive; beyond it that client loses events and is told. A batch published at once is queued whole for a client that keeps up.",
    positive,
  ),
});

const httpServerSchema = section("Extension (not in upstream HUATUO): the agent's HTTP listener.", {
  ListenAddress: listenAddress(":19704", "host:port to listen on; an empty host listens on all interfaces."),
  RequestsPerSecond: int(200, "Per-client request rate limit (token bucket, burst of the same size).", positive),
  MaxBodyBytes: int(4194304, "Largest accepted request body in bytes.", positive),
});

export const configSchema = section("huatuo-bamai.conf", {
  BlackList: strList(
    ["netdev_hw", "metax_gpu"],
    "Tracer and collector names to disable (merged with --disable-tracing); unknown names are ignored.",
    nonEmpty,
  ),
  BtfPath: str(
    "",
    "Extension: a BTF file (btfhub style) for kernels without /sys/kernel/btf/vmlinux; empty uses the kernel's only.",
  ),
  Log: logSchema,
  RuntimeCgroup: runtimeCgroupSchema,
  Storage: storageSchema,
  AutoTracing: autoTracingSchema,
  EventTracing: eventTracingSchema,
  MetricCollector: metricCollectorSchema,
  Pod: podSchema,
  EventsWatch: eventsWatchSchema,
  HTTPServer: httpServerSchema,
});

export type Config = Infer<typeof configSchema>;

export function defaultConfig(): Config {
  return defaultOf(configSchema) as Config;
}

/** Every key with its type, default and doc, in file order (for docs and their tests). */
export function listConfigKeys(): KeyDoc[] {
  return listKeys(configSchema.fields);
}
