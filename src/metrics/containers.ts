// Shared plumbing for container series: which containers a collector reports, and per-container reads that skip a
// container gone mid-scrape instead of failing the scrape. Network reads are shared by containers of one namespace.
import type { TracerContext } from "../framework/types";
import { isNotFound } from "../procfs/root";
import type { Container } from "../pod/types";

/** The original's selections: most collectors report `normal` containers, CPU ones `normal` and `sidecar`. */
export function normalContainers(ctx: TracerContext): Container[] {
  return ctx.containers.list().filter((c) => c.type === "normal");
}

export function normalAndSidecarContainers(ctx: TracerContext): Container[] {
  return ctx.containers.list().filter((c) => c.type === "normal" || c.type === "sidecar");
}

/** ESRCH: /proc/<pid> of a process that exited between the directory lookup and the read. */
function isGone(err: unknown): boolean {
  return isNotFound(err) || (err as NodeJS.ErrnoException | undefined)?.code === "ESRCH";
}

/** `read` for every container concurrently; undefined results and vanished containers are left out. */
export async function readEach<T>(containers: Container[], read: (c: Container) => Promise<T | undefined>): Promise<Array<[Container, T]>> {
  const results = await Promise.all(
    containers.map(async (c) => {
      try {
        return await read(c);
      } catch (err) {
        if (isGone(err)) return undefined;
        throw err;
      }
    }),
  );
  return containers.flatMap((c, i) => (results[i] === undefined ? [] : [[c, results[i]] as [Container, T]]));
}

/**
 * `read(initPid)` once per network namespace: a pod's containers share one, so its files are read once per scrape
 * and every container of the pod gets the same values. Containers without a known init pid are skipped. The readers
 * read synchronously: hundreds of small /proc/<pid>/net files cost about half as much without the thread pool.
 */
export function readEachNetns<T>(containers: Container[], read: (pid: number) => Promise<T>): Promise<Array<[Container, T]>> {
  const byNetns = new Map<number, Promise<T>>();
  return readEach(containers, (c) => {
    if (c.initPid <= 0) return Promise.resolve(undefined);
    const key = c.netnsInode > 0 ? c.netnsInode : -c.initPid;
    let pending = byNetns.get(key);
    if (!pending) byNetns.set(key, (pending = read(c.initPid)));
    return pending;
  });
}
