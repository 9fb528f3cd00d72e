import { expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listRotated, rotatedName } from "./rotate";

test("a rotated name always sorts after the existing ones: same millisecond, pruned names, clock stepped back", () => {
  const dir = mkdtempSync(join(tmpdir(), "rotate-"));
  const at = new Date(2026, 10, 21, 4, 20, 38, 898);
  const rotate = (now: Date) => {
    const name = rotatedName(dir, "oom", now);
    writeFileSync(join(dir, name), "");
    return name;
  };
  const first = rotate(at);
  const second = rotate(at);
  expect(second > first).toBe(true);
  rmSync(join(dir, first)); // pruned as the oldest: its name is free again, but must not be reused
  const third = rotate(at);
  expect(third > second).toBe(true);
  const fourth = rotate(new Date(at.getTime() - 3_600_000)); // the clock stepped back an hour
  expect(fourth > third).toBe(true);
  expect(listRotated(dir, "oom")).toEqual([second, third, fourth]);
  rmSync(dir, { recursive: true });
});
