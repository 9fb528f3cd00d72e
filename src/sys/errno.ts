// Names of errno values for messages, from the platform's own table (node:os), so every layer words them alike.
import { constants } from "node:os";

export const ERRNO_NAMES: ReadonlyMap<number, string> = new Map(
  Object.entries(constants.errno).map(([name, value]) => [value, name] as [number, string]),
);

/** "EINVAL (22)"; a value the table lacks reads "errno (N)". */
export function errnoText(errno: number): string {
  return `${ERRNO_NAMES.get(errno) ?? "errno"} (${errno})`;
}
