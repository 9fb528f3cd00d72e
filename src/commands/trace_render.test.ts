// The terminal views of a capture: the flame graph as a tree with folded chains and a threshold, the stack table.
import { expect, test } from "bun:test";
import { Chalk } from "chalk";
import { FlameTree } from "../profiler/flame";
import type { Profile } from "../profiler/profile";
import { renderFlame, renderStacks } from "./trace_render";

const plain = { chalk: new Chalk({ level: 0 }), columns: 100, top: 5 };

test("flame view: shares, bars, a chain of single children on one line, frames under 1% left out", () => {
  const t = new FlameTree();
  t.add(["dd", "main", "read", "entry_SYSCALL_64", "ksys_read", "read_zero"], 90);
  t.add(["dd", "main", "write"], 8);
  t.add(["cron"], 1.5);
  t.add(["tiny"], 0.5);
  const lines = renderFlame(t.toFlamedata(), { ...plain, minPercent: 1 }).split("\n");
  expect(lines[0]).toMatch(/^100\.0% █{20} all$/);
  expect(lines[1]).toMatch(/^ 98\.0% █{20}\s+├─ dd → main$/);
  expect(lines[2]).toMatch(/^ 90\.0% █{18}\s+│  ├─ read → … → read_zero \(4 frames\)$/);
  expect(lines[3]).toMatch(/^ {2}8\.0% █{2}\s+│  └─ write$/);
  expect(lines[4]).toMatch(/^ {2}1\.5%\s+└─ cron$/);
  expect(lines).toHaveLength(5);
});

test("flame view: a line cap says how much was left out", () => {
  const t = new FlameTree();
  for (let i = 0; i < 30; i++) t.add([`p${i}`], 10);
  const out = renderFlame(t.toFlamedata(), { ...plain, maxLines: 10 });
  expect(out.split("\n")).toHaveLength(11);
  expect(out).toEndWith("… 21 more frames (use --output json for the whole flame graph)");
});

test("stack table: leaf first with its callers, the process and its share", () => {
  const profile = {
    total: 200,
    stacks: [{ pid: 7, comm: "dd", frames: ["dd", "main", "read", "read_zero"], kernelFrames: 1, count: 150 }],
  } as Profile;
  const out = renderStacks(profile, plain);
  expect(out).toMatch(/│ 1\s+│ 150\s+│ 75\.0\s+│ dd\[7\]\s+│ read_zero ← read ← main\s+│/);
});
