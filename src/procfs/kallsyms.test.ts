// The kallsyms symbolizer on a hand-written table, then on this machine's /proc/kallsyms.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { Kallsyms, kernelSymbols } from "./kallsyms";

const TABLE = [
  "ffffffff81000000 T _stext",
  "ffffffff81000100 t kfree_skb_reason",
  "ffffffff81000400 D some_data",
  "ffffffff81000200 T neigh_invalidate",
  "ffffffffc0001000 t bnxt_tx_int\t[bnxt_en]",
  "ffffffffc0001080 t bnxt_poll\t[bnxt_en]",
  "",
].join("\n");

describe("Kallsyms", () => {
  const table = Kallsyms.parse(TABLE);

  test("keeps text symbols only, sorted by address", () => {
    expect(table.size).toBe(5);
    expect(table.lookup(0xffffffff81000180n)).toEqual({ name: "kfree_skb_reason", offset: 0x80, size: 0x100, module: undefined });
  });

  test("formats frames like the kernel's %pS, with the module", () => {
    expect(table.format(0xffffffff81000212n)).toBe("neigh_invalidate+0x12/0x3f000e00");
    expect(table.format(0xffffffffc0001010n)).toBe("bnxt_tx_int+0x10/0x80 [bnxt_en]");
    expect(table.format(0xffffffff80000000n)).toBe("0xffffffff80000000");
    // far past the last core symbol, in the gap before the modules: unknown rather than a 1 GiB "function"
    expect(table.format(0xffffffffa0000000n)).toBe("0xffffffffa0000000");
  });

  test("ranges by name", () => {
    expect(table.range("kfree_skb_reason")).toEqual({ start: 0xffffffff81000100n, end: 0xffffffff81000200n });
    expect(table.range("missing")).toBeUndefined();
  });

  test("a module name after a space instead of the kernel's tab", () => {
    const spaced = Kallsyms.parse("ffffffffc0002000 t mlx_poll_cq [mlx5_core]\nffffffffc0002400 t mlx_next [mlx5_core]\n");
    expect(spaced.format(0xffffffffc0002012n)).toBe("mlx_poll_cq+0x12/0x400 [mlx5_core]");
  });

  test("addresses hidden by kptr_restrict give an empty table", () => {
    const hidden = Kallsyms.parse("0000000000000000 T _stext\n0000000000000000 t foo\n");
    expect(hidden.size).toBe(0);
    expect(hidden.format(0xffffffff81000000n)).toBe("0xffffffff81000000");
  });
});

describe("this host", () => {
  test("resolves a core kernel function to itself", async () => {
    const table = await kernelSymbols();
    const line = readFileSync("/proc/kallsyms", "utf8").split("\n").find((l) => / T kfree_skb_reason$| T sk_skb_reason_drop$/.test(l));
    if (!line || line.startsWith("0000000000000000")) return; // kptr_restrict hides addresses from this user
    const address = BigInt(`0x${line.split(" ")[0]}`);
    expect(table.lookup(address + 4n)?.name).toBe(line.split(" ")[2]!);
    expect(await kernelSymbols()).toBe(table);
  });
});
