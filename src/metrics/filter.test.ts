import { describe, expect, test } from "bun:test";
import { filterKeys, passesFilter } from "./filter";

describe("passesFilter", () => {
  test("empty patterns pass everything", () => {
    expect(passesFilter("anything")).toBe(true);
    expect(passesFilter("anything", "", "")).toBe(true);
  });

  test("include then exclude, both unanchored", () => {
    expect(passesFilter("nr_dirty_threshold", "nr_dirty", "")).toBe(true);
    expect(passesFilter("nr_zone_write_pending", "nr_dirty", "")).toBe(false);
    expect(passesFilter("pgscan_direct_total", "pgscan", "total")).toBe(false);
    expect(passesFilter("lo", "", "^(lo)|(docker\\w*)$")).toBe(false);
  });
});

describe("filterKeys", () => {
  test("keeps file order", () => {
    const values = new Map([["b_total", 1], ["a", 2], ["b", 3]]);
    expect(filterKeys(values, "a|b", "total")).toEqual([["a", 2], ["b", 3]]);
  });
});
