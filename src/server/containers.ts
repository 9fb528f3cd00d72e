// GET /containers/json: the containers the agent knows, in HUATUO's JSON shape, optionally one by id (or id prefix).
import type { Container } from "../pod/types";
import type { HttpServer } from "./http";
import { jsonError, jsonResponse } from "./http";

export interface ContainerListing {
  list(): Container[];
  /** Unix ms of the last successful pod sync, 0 when none happened (or discovery is off). */
  readonly syncedAt: number;
}

/** A full 64-hex id, or a prefix of at least 12 hex digits (the short id docker and crictl print). */
const ID_QUERY = /^[0-9a-f]{12,64}$/;

export function registerContainerRoutes(server: HttpServer, source: ContainerListing): void {
  server.route("GET", "/containers/json", (_req, ctx) => {
    const filter = parseQuery(ctx.url.searchParams);
    if (typeof filter !== "string" && filter !== undefined) return filter;
    const containers = source.list().filter((c) => filter === undefined || c.id.startsWith(filter));
    return jsonResponse(200, { data: containers.map((c) => containerJson(c, source.syncedAt)) });
  });
}

/** The lower-cased id filter, undefined for none, or the 400 response explaining what is wrong. */
function parseQuery(params: URLSearchParams): string | undefined | Response {
  for (const key of params.keys()) {
    if (key !== "container_id") return jsonError(400, "invalid_request", `unknown query parameter ${JSON.stringify(key)}`);
  }
  const values = params.getAll("container_id");
  if (values.length === 0) return undefined;
  if (values.length > 1) return jsonError(400, "invalid_request", "container_id given more than once");
  const id = values[0]!.toLowerCase();
  if (!ID_QUERY.test(id)) {
    return jsonError(400, "invalid_request", "container_id must be 12 to 64 hexadecimal digits (a container id or its prefix)");
  }
  return id;
}

function isoOrNull(ms: number): string | null {
  return ms > 0 ? new Date(ms).toISOString() : null;
}

/**
 * HUATUO's field names; `cgroup_css` (kernel css addresses from BPF) is empty until a BPF source fills it, and
 * `net_namespace_cookie` is 0 (unknown) as in the original on kernels without SO_NETNS_COOKIE. The `pod_*` and
 * `namespace` fields are additions.
 */
export function containerJson(c: Container, syncedAt: number): Record<string, unknown> {
  return {
    id: c.id,
    name: c.name,
    hostname: c.hostname,
    type: c.type,
    qos: c.qos,
    net_ip_address: c.podIp ?? "",
    net_namespace_inum: c.netnsInode,
    net_namespace_cookie: 0,
    init_pid: c.initPid,
    cgroup_path: `/${c.cgroupPath}`,
    cgroup_css: {},
    started_at: isoOrNull(c.startedAt),
    synced_at: isoOrNull(syncedAt),
    labels: { HostNamespace: c.namespace },
    namespace: c.namespace,
    pod_name: c.podName,
    pod_uid: c.podUid,
    pod_labels: c.labels,
    pod_annotations: c.annotations,
  };
}
