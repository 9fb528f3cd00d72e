// The hungtask/softlockup storm backoff: 10, 20, 40, 80, 160, 180, 180 min, back to 10 after a quiet hour.
import { expect, test } from "bun:test";
import { StormBackoff } from "./backoff";

const MIN = 60_000;

test("intervals double from 10 min to 3 h", () => {
  const b = new StormBackoff();
  const allowed: number[] = [];
  for (let t = 0; t <= 800 * MIN; t += MIN) if (b.allow(t)) allowed.push(t / MIN);
  expect(allowed).toEqual([0, 10, 30, 70, 150, 310, 490, 670]);
});

test("a quiet spell longer than the last interval plus an hour starts again at 10 min", () => {
  const b = new StormBackoff();
  expect([b.allow(0), b.allow(10 * MIN), b.allow(29 * MIN)]).toEqual([true, true, false]);
  // last interval 20 min: quiet beyond 80 min resets
  expect(b.allow(10 * MIN + 81 * MIN)).toBe(true);
  expect(b.allow(10 * MIN + 81 * MIN + 10 * MIN)).toBe(true);
});
