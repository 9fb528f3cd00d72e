// Container selection and per-container reads: vanished containers skipped, one read per network namespace.
import { describe, expect, test } from "bun:test";
import { normalAndSidecarContainers, normalContainers, readEach, readEachNetns } from "./containers";
import { stubContext, testContainer } from "./testing";

const a = testContainer({ id: "a", initPid: 10, netnsInode: 5 });
const b = testContainer({ id: "b", initPid: 11, netnsInode: 5, type: "sidecar" });
const c = testContainer({ id: "c", initPid: 12, netnsInode: 6 });
const noPid = testContainer({ id: "d", initPid: 0 });

describe("container plumbing", () => {
  test("selections by type", () => {
    const ctx = stubContext({ containers: [a, b, c, testContainer({ id: "e", type: "daemonSet" })] });
    expect(normalContainers(ctx).map((x) => x.id)).toEqual(["a", "c"]);
    expect(normalAndSidecarContainers(ctx).map((x) => x.id)).toEqual(["a", "b", "c"]);
  });

  test("readEach drops undefined results and containers gone mid-read, rethrows other errors", async () => {
    const gone = Object.assign(new Error("gone"), { code: "ENOENT" });
    const got = await readEach([a, b, c], async (x) => {
      if (x.id === "b") throw gone;
      return x.id === "c" ? undefined : 1;
    });
    expect(got.map(([x, v]) => [x.id, v])).toEqual([["a", 1]]);
    await expect(readEach([a], async () => { throw new Error("parse"); })).rejects.toThrow("parse");
  });

  test("readEachNetns reads a shared namespace once and skips containers without a pid", async () => {
    const reads: number[] = [];
    const got = await readEachNetns([a, b, c, noPid], async (pid) => (reads.push(pid), pid));
    expect(reads).toEqual([10, 12]);
    expect(got.map(([x, v]) => [x.id, v])).toEqual([["a", 10], ["b", 10], ["c", 12]]);
  });
});
