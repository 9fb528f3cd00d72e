import { expect, test } from "bun:test";
import { RateLimiter } from "./rate_limit";

test("allows a burst of one second of tokens, then refills over time", () => {
  const limiter = new RateLimiter(3);
  const t0 = 1_000_000;
  expect([1, 2, 3, 4].map(() => limiter.allow("a", t0))).toEqual([true, true, true, false]);
  expect(limiter.allow("b", t0)).toBe(true);
  expect(limiter.allow("a", t0 + 400)).toBe(true);
  expect(limiter.allow("a", t0 + 400)).toBe(false);
});
