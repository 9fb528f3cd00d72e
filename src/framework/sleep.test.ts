import { expect, test } from "bun:test";
import { sleep } from "./sleep";

test("resolves on time and leaves no abort listener behind; an abort ends it early", async () => {
  const controller = new AbortController();
  let added = 0;
  let removed = 0;
  const signal = controller.signal;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = ((...args: Parameters<typeof add>) => (added++, add(...args))) as typeof add;
  signal.removeEventListener = ((...args: Parameters<typeof remove>) => (removed++, remove(...args))) as typeof remove;
  for (let i = 0; i < 5; i++) await sleep(1, signal);
  expect(added).toBe(5);
  expect(removed).toBe(5);
  const started = Date.now();
  const long = sleep(60_000, signal);
  controller.abort();
  await long;
  expect(Date.now() - started).toBeLessThan(1000);
});
