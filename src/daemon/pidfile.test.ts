import { expect, test } from "bun:test";
import { mkdtempSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PidFile } from "./pidfile";

test("a second holder of the same pidfile is refused with the first pid, and release removes it", () => {
  const path = join(mkdtempSync(join(tmpdir(), "pidfile-")), "x.pid");
  const first = PidFile.acquire(path);
  expect(readFileSync(path, "utf8").trim()).toBe(String(process.pid));
  expect(() => PidFile.acquire(path)).toThrow(`already running: ${path} is locked by pid ${process.pid}`);
  first.release();
  expect(existsSync(path)).toBe(false);
});
