// The daemon's container source: resyncs the kubelet pod list in the background and serves the last good snapshot.
// A kubelet that is down never blocks startup or a scrape; each failure episode is logged once, then its recovery.
import type { Logger } from "../log";
import type { CgroupLayout } from "./cgroup";
import type { PodFetcher } from "./kubelet";
import { podContainers, type PodContainer } from "./pods";
import { ContainerResolver } from "./resolve";
import type { Container, ContainerSource } from "./types";

export interface PodManagerOptions {
  fetcher: PodFetcher;
  layout: CgroupLayout;
  log: Logger;
  /** The node's hostname: the container_host of DaemonSet and hostNetwork pods. */
  nodeHostname: string;
  intervalMs?: number;
}

const SYNC_INTERVAL_MS = 10_000;
const FIRST_RETRY_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;

export class PodManager implements ContainerSource {
  private snapshot: readonly Container[] = [];
  /**
   * The last sync's objects by id with their JSON. A container whose every field is unchanged keeps its object, so
   * what collectors cache per Container (cgroup directories, label text, CPU limits) lives across syncs.
   */
  private previous = new Map<string, { container: Container; json: string }>();
  private synced = 0;
  private failures = 0;
  private readonly resolver: ContainerResolver;
  /** Container ids already reported as unmappable, so a stuck container is logged once, not every sync. */
  private readonly reported = new Set<string>();
  private timer?: ReturnType<typeof setTimeout>;
  private stopped = false;

  constructor(private readonly opts: PodManagerOptions) {
    this.resolver = new ContainerResolver(opts.layout);
  }

  list(): Container[] {
    return this.snapshot as Container[];
  }

  /** Unix ms of the last successful sync, 0 before the first. */
  get syncedAt(): number {
    return this.synced;
  }

  /** First sync now, in the background; then every interval, and after a failure retries backing off from 1 s to 60 s. */
  start(): void {
    this.schedule(0);
  }

  /** An in-flight fetch is left to finish (at most its timeout) and then schedules nothing. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      void this.syncOnce().then((ok) => this.schedule(ok ? this.interval() : this.backoff()));
    }, delayMs);
  }

  private interval(): number {
    return this.opts.intervalMs ?? SYNC_INTERVAL_MS;
  }

  private backoff(): number {
    return Math.min(FIRST_RETRY_MS * 2 ** Math.min(this.failures - 1, 20), MAX_BACKOFF_MS);
  }

  /** One sync; true when the pod list was fetched. Never throws. */
  async syncOnce(): Promise<boolean> {
    let pods: unknown[];
    try {
      pods = await this.opts.fetcher.fetchPods();
    } catch (err) {
      this.failed(err);
      return false;
    }
    if (this.failures > 0) this.opts.log.info("kubelet pod sync recovered", { failed_attempts: this.failures });
    this.failures = 0;
    this.snapshot = this.build(pods);
    this.synced = Date.now();
    return true;
  }

  private failed(err: unknown): void {
    this.failures++;
    const fields = { err: (err as Error).message ?? String(err), containers: this.snapshot.length };
    if (this.failures === 1) {
      this.opts.log.warn("kubelet pod sync failed, keeping the last pod list and retrying with backoff", fields);
    } else {
      this.opts.log.debug("kubelet pod sync still failing", { ...fields, attempt: this.failures, next_retry_ms: this.backoff() });
    }
  }

  private build(pods: unknown[]): Container[] {
    const listed = pods.flatMap((pod) => this.podContainers(pod));
    const ids = new Set(listed.map((pc) => pc.id));
    this.resolver.beginSync();
    this.resolver.retain(ids);
    for (const id of this.reported) if (!ids.has(id)) this.reported.delete(id);
    const out: Container[] = [];
    const current = new Map<string, { container: Container; json: string }>();
    for (const pc of listed) {
      const resolved = this.resolver.resolve(pc);
      if (!resolved) {
        this.unmapped(pc);
        continue;
      }
      const json = JSON.stringify(resolved);
      const kept = this.previous.get(resolved.id);
      const entry = kept?.json === json ? kept : { container: resolved, json };
      current.set(resolved.id, entry);
      out.push(entry.container);
    }
    this.previous = current;
    return out;
  }

  private podContainers(pod: unknown): PodContainer[] {
    try {
      return podContainers(pod, this.opts.nodeHostname);
    } catch (err) {
      // Defensive: podContainers checks every field, but one odd pod must never cost the others.
      this.opts.log.debug("skipping unreadable pod", { err });
      return [];
    }
  }

  /** A running container without a cgroup here is worth one line; exited ones keep ids whose cgroups are gone. */
  private unmapped(pc: PodContainer): void {
    if (!pc.running || this.reported.has(pc.id)) return;
    this.reported.add(pc.id);
    this.opts.log.warn("container cgroup not found, skipping it", {
      container_id: pc.id, container: pc.name, pod: `${pc.namespace}/${pc.podName}`,
    });
  }
}
