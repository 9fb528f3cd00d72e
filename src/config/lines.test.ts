// Checks the key → line scan used to put line numbers on config errors.
import { describe, expect, test } from "bun:test";
import { lineOf, scanKeyLines } from "./lines";

const text = [
  "Top = 1 # comment [NotAHeader]", // 1
  "List = [", // 2
  '  ["a", "b"],', // 3
  '  ["[Fake]", "x = 1"],', // 4
  "]", // 5
  "[A]", // 6
  'Doc = """', // 7
  "[NotHeader]", // 8
  'Inner = 2"""', // 9
  "B.C = 3", // 10
  '"quoted.key" = 4', // 11
  "[[A.Rules]]", // 12
  "Field = 5", // 13
  "[[A.Rules]]", // 14
  "Field = 6", // 15
  "[A.Rules.Sub]", // 16
  "X = 7", // 17
  "[ D . 'e' ]", // 18
  "y=8", // 19
].join("\n");

describe("scanKeyLines", () => {
  const lines = scanKeyLines(text);

  test("keys, headers and dotted keys", () => {
    expect(lines.get("Top")).toBe(1);
    expect(lines.get("List")).toBe(2);
    expect(lines.get("A")).toBe(6);
    expect(lines.get("A.Doc")).toBe(7);
    expect(lines.get("A.B")).toBe(10);
    expect(lines.get("A.B.C")).toBe(10);
    expect(lines.get("A.quoted.key")).toBe(11);
    expect(lines.get("D.e.y")).toBe(19);
  });

  test("multi-line arrays and strings hide what looks like headers and keys", () => {
    expect(lines.has("Fake")).toBe(false);
    expect(lines.has("NotHeader")).toBe(false);
    expect(lines.has("A.Inner")).toBe(false);
    expect(lines.has("NotAHeader")).toBe(false);
  });

  test("arrays of tables are indexed per entry", () => {
    expect(lines.get("A.Rules")).toBe(12);
    expect(lines.get("A.Rules[0].Field")).toBe(13);
    expect(lines.get("A.Rules[1]")).toBe(14);
    expect(lines.get("A.Rules[1].Field")).toBe(15);
    expect(lines.get("A.Rules[1].Sub.X")).toBe(17);
  });

  test("lineOf falls back to the closest ancestor", () => {
    expect(lineOf(lines, "List[1][0]")).toBe(2);
    expect(lineOf(lines, "A.Rules[1].Missing")).toBe(14);
    expect(lineOf(lines, "A.Nope.Deeper")).toBe(6);
    expect(lineOf(lines, "Absent")).toBeUndefined();
  });
});
