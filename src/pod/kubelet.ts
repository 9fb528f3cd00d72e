// Fetches the pod list from the local kubelet: the read-only HTTP port first, then the authorized HTTPS port with
// the client certificate of Pod.KubeletClientCertPath. Every failure is one line naming the URL and the cause.
import { readFile } from "node:fs/promises";
import type { Config } from "../config/schema";
import { podItems } from "./pods";

export type PodConfig = Config["Pod"];

/** Where pod lists come from; the kubelet in production, a stub in unit tests. */
export interface PodFetcher {
  fetchPods(): Promise<unknown[]>;
}

const FETCH_TIMEOUT_MS = 5_000;

interface Endpoint {
  url: string;
  tls: boolean;
}

/** Why pod discovery is off for this config, or undefined when some endpoint can be tried. */
export function kubeletDisabledReason(cfg: PodConfig): string | undefined {
  if (cfg.KubeletReadOnlyPort === 0 && cfg.KubeletAuthorizedPort === 0) {
    return "KubeletReadOnlyPort and KubeletAuthorizedPort are 0";
  }
  if (cfg.KubeletReadOnlyPort === 0 && cfg.KubeletClientCertPath.trim() === "") {
    return "KubeletReadOnlyPort is 0 and KubeletAuthorizedPort needs KubeletClientCertPath";
  }
  return undefined;
}

export class KubeletClient implements PodFetcher {
  private readonly endpoints: Endpoint[] = [];
  /** The endpoint that answered last is tried first, so a host without the read-only port pays no refused connect. */
  private preferred = 0;

  constructor(
    private readonly cfg: PodConfig,
    host = "127.0.0.1",
    private readonly timeoutMs = FETCH_TIMEOUT_MS,
  ) {
    if (cfg.KubeletReadOnlyPort !== 0) this.endpoints.push({ url: `http://${host}:${cfg.KubeletReadOnlyPort}/pods`, tls: false });
    if (cfg.KubeletAuthorizedPort !== 0 && cfg.KubeletClientCertPath.trim() !== "") {
      this.endpoints.push({ url: `https://${host}:${cfg.KubeletAuthorizedPort}/pods`, tls: true });
    }
  }

  async fetchPods(): Promise<unknown[]> {
    const failures: string[] = [];
    const order = this.endpoints.map((_, i) => (i + this.preferred) % this.endpoints.length);
    for (const i of order) {
      try {
        const pods = await this.fetchFrom(this.endpoints[i]!);
        this.preferred = i;
        return pods;
      } catch (err) {
        failures.push(`${this.endpoints[i]!.url}: ${errorText(err)}`);
      }
    }
    throw new Error(failures.join("; ") || "no kubelet endpoint configured");
  }

  private async fetchFrom(endpoint: Endpoint): Promise<unknown[]> {
    const init: RequestInit & { tls?: Record<string, unknown> } = { signal: AbortSignal.timeout(this.timeoutMs) };
    // The kubelet's serving certificate is usually self-signed and the connection never leaves loopback, so only the
    // client side is authenticated (the original does the same with InsecureSkipVerify).
    if (endpoint.tls) init.tls = { ...(await loadClientCert(this.cfg.KubeletClientCertPath)), rejectUnauthorized: false };
    const res = await fetch(endpoint.url, init);
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`HTTP ${res.status}`);
    }
    let body: unknown;
    try {
      body = await res.json();
    } catch (err) {
      throw new Error(`invalid JSON: ${(err as Error).message}`);
    }
    return podItems(body);
  }
}

/**
 * "cert,key" or one PEM holding both. Read on every HTTPS attempt: kubelet-client-current.pem is rotated in place.
 */
export async function loadClientCert(paths: string): Promise<{ cert: string; key: string }> {
  const [certPath, keyPath] = paths.split(",").map((p) => p.trim());
  const read = async (path: string) => {
    try {
      return await readFile(path, "utf8");
    } catch (err) {
      throw new Error(`client certificate ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  const cert = await read(certPath!);
  const key = keyPath ? await read(keyPath) : cert;
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(key)) {
    throw new Error(`client certificate ${keyPath ?? certPath}: no PEM private key`);
  }
  return { cert, key };
}

/** The first sentence only: Bun appends advice ("Is the computer able to access the url?") to socket errors. */
function errorText(err: unknown): string {
  const e = err as { name?: string; message?: string };
  if (e?.name === "TimeoutError") return "timed out";
  return (e?.message ?? String(err)).split("\n")[0]!.split(/\. (?=[A-Z])/)[0]!;
}
