// The flame graph: folding stacks, flamedata in depth-first order with value and self, and reading it back.
import { expect, test } from "bun:test";
import { FlameTree, treeFromFlamedata } from "./flame";

test("flamedata: root `all`, depth-first, siblings by label, value with descendants and self without", () => {
  const t = new FlameTree();
  t.add(["app", "main", "work"], 6);
  t.add(["app", "main"], 2);
  t.add(["app", "main", "idle"], 1);
  t.add(["cron"], 1);
  expect(t.toFlamedata()).toEqual([
    { level: 0, value: 10, self: 0, label: "all" },
    { level: 1, value: 9, self: 0, label: "app" },
    { level: 2, value: 9, self: 2, label: "main" },
    { level: 3, value: 1, self: 1, label: "idle" },
    { level: 3, value: 6, self: 6, label: "work" },
    { level: 1, value: 1, self: 1, label: "cron" },
  ]);
});

test("every node's value is its self plus its children's values", () => {
  const t = new FlameTree();
  for (const [stack, n] of [[["a", "b", "c"], 3], [["a", "b"], 2], [["a", "d"], 4], [["e"], 1]] as const) t.add(stack, n);
  const frames = t.toFlamedata();
  frames.forEach((f, i) => {
    const kids = [];
    for (let j = i + 1; j < frames.length && frames[j]!.level > f.level; j++) if (frames[j]!.level === f.level + 1) kids.push(frames[j]!);
    expect(f.value).toBe(f.self + kids.reduce((s, k) => s + k.value, 0));
  });
});

test("treeFromFlamedata rebuilds the tree", () => {
  const t = new FlameTree();
  t.add(["x", "y"], 2);
  t.add(["x", "z"], 1);
  const root = treeFromFlamedata(t.toFlamedata());
  expect(root.value).toBe(3);
  const x = [...root.children.values()][0]!;
  expect([x.label, x.value, [...x.children.values()].map((c) => c.label)]).toEqual(["x", 3, ["y", "z"]]);
  expect(() => treeFromFlamedata([{ level: 0, value: 1, self: 0, label: "all" }, { level: 2, value: 1, self: 1, label: "orphan" }])).toThrow("without a parent");
});
