// Container task states: the /proc/<tid>/stat state field and the R/D counts that stand in for cgroupstats.
import { describe, expect, test } from "bun:test";
import { countStates, statState } from "./loadavg_container";

describe("task states", () => {
  test("the state follows the last ')' even when comm holds spaces and parentheses", () => {
    expect(statState("1234 (sleep) S 1 1234 1234 0 -1")).toBe("S");
    expect(statState("77 (a) b) (c) D 1 77")).toBe("D");
    expect(statState("9 (kworker/0:1-events) I 2 0")).toBe("I");
  });

  test("R counts as running, D as uninterruptible, everything else as neither", () => {
    expect(countStates(["R", "R", "D", "S", "I", "Z", "T"])).toEqual({ nrRunning: 2, nrUninterruptible: 1 });
    expect(countStates([])).toEqual({ nrRunning: 0, nrUninterruptible: 0 });
  });
});
