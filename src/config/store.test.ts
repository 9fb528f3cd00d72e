// Checks the live config holder: swapping, listeners, and that a published config cannot be edited.
import { describe, expect, test } from "bun:test";
import { mergeBlackList } from "./load";
import { defaultConfig } from "./schema";
import { ConfigStore } from "./store";

describe("ConfigStore", () => {
  test("get returns what was set, listeners see next and prev", () => {
    const first = defaultConfig();
    const store = new ConfigStore(first);
    const seen: Array<[string[], string[]]> = [];
    store.onChange((next, prev) => seen.push([next.BlackList, prev.BlackList]));
    const second = mergeBlackList(store.get(), ["oom"]);
    store.set(second);
    expect(store.get()).toBe(second);
    expect(seen).toEqual([[["netdev_hw", "metax_gpu", "oom"], ["netdev_hw", "metax_gpu"]]]);
  });

  test("setting the same config again notifies nobody", () => {
    const store = new ConfigStore(defaultConfig());
    let calls = 0;
    store.onChange(() => calls++);
    store.set(store.get());
    expect(calls).toBe(0);
  });

  test("unsubscribe stops notifications, per subscription", () => {
    const store = new ConfigStore(defaultConfig());
    let calls = 0;
    const listener = () => calls++;
    const off = store.onChange(listener);
    store.onChange(listener);
    off();
    store.set(defaultConfig());
    expect(calls).toBe(1);
  });

  test("a throwing listener does not starve the others", () => {
    const store = new ConfigStore(defaultConfig());
    let reached = false;
    store.onChange(() => {
      throw new Error("boom");
    });
    store.onChange(() => {
      reached = true;
    });
    const next = defaultConfig();
    expect(() => store.set(next)).toThrow("boom");
    expect(reached).toBe(true);
    expect(store.get()).toBe(next);
  });

  test("published configs are frozen", () => {
    const store = new ConfigStore(defaultConfig());
    expect(() => store.get().BlackList.push("oom")).toThrow();
    expect(() => {
      store.get().Log.Level = "Debug";
    }).toThrow();
  });
});
