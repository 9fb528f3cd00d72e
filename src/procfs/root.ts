// The one place that turns kernel pseudo-filesystem paths into real paths.
// Every read of /proc, /sys and /dev goes through here so `--procfs-prefix` can point the whole daemon at a fixture tree.
import { readFileSync, readdirSync, existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";

let rootPrefix = "";

/** Set the root under which /proc, /sys and /dev are found ("" = the real root). */
export function setRootPrefix(prefix: string): void {
  rootPrefix = prefix.replace(/\/+$/, "");
}

export function getRootPrefix(): string {
  return rootPrefix;
}

/** `/proc/<parts...>` under the configured root. */
export function procPath(...parts: string[]): string {
  return join(rootPrefix || "/", "proc", ...parts);
}

/** `/sys/<parts...>` under the configured root. */
export function sysPath(...parts: string[]): string {
  return join(rootPrefix || "/", "sys", ...parts);
}

/** `/dev/<parts...>` under the configured root. */
export function devPath(...parts: string[]): string {
  return join(rootPrefix || "/", "dev", ...parts);
}

/** Read a pseudo-file as text. Pseudo-files report size 0, so never trust stat sizes. */
export function readTextAsync(path: string): Promise<string> {
  return readFile(path, "utf8");
}

export function readTextSync(path: string): string {
  return readFileSync(path, "utf8");
}

/** Read a file, returning undefined when it does not exist (a missing optional kernel feature). */
export async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** readTextIfExists without the thread pool: cheaper for the many tiny files of one scrape (a task's stat). */
export function readTextIfExistsSync(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export function listDir(path: string): string[] {
  try {
    return readdirSync(path);
  } catch (err) {
    if (isNotFound(err)) return [];
    throw err;
  }
}

export function pathExists(path: string): boolean {
  return existsSync(path);
}

export function isNotFound(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}
