// The daemon's `pod` startup step: kubelet-backed container discovery, or an empty source when it is off.
import type { Config } from "../config/schema";
import type { Logger } from "../log";
import { hostCgroups } from "./cgroup_reader";
import { KubeletClient, kubeletDisabledReason } from "./kubelet";
import { PodManager } from "./manager";
import type { Container, ContainerSource } from "./types";

export interface PodDiscovery extends ContainerSource {
  readonly syncedAt: number;
  stop(): void;
}

const off: PodDiscovery = { list: (): Container[] => [], syncedAt: 0, stop: () => {} };

/** Starts the background sync and returns at once: the first pod list arrives when the kubelet answers. */
export function startPodDiscovery(cfg: Config["Pod"], disabledByFlag: boolean, nodeHostname: string, log: Logger): PodDiscovery {
  const reason = disabledByFlag ? "--disable-kubelet" : kubeletDisabledReason(cfg);
  if (reason !== undefined) {
    log.info("pod discovery off: no container labels", { reason });
    return off;
  }
  const cgroups = hostCgroups();
  const manager = new PodManager({ fetcher: new KubeletClient(cfg), layout: cgroups.layout, log, nodeHostname });
  log.info("pod discovery started", {
    cgroup_mode: cgroups.layout.mode, read_only_port: cfg.KubeletReadOnlyPort, authorized_port: cfg.KubeletAuthorizedPort,
  });
  manager.start();
  return manager;
}
