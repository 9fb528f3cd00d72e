// Enum values from BTF: a hand-built blob with types before the enum, then this kernel's skb_drop_reason.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { btfEnum, DropReasons } from "./drop_reasons";

/** A BTF blob: an int, a struct with one member, then `enum color { RED = 0, BLUE = 7 }`. */
function blob(): Uint8Array {
  const strings = "\0int\0pair\0a\0color\0RED\0BLUE\0";
  const off = (s: string) => strings.indexOf(`\0${s}\0`) + 1;
  const types: number[] = [
    ...[off("int"), 1 << 24, 4, 32], // INT, 4 bytes of encoding
    ...[off("pair"), (4 << 24) | 1, 4, off("a"), 1, 0], // STRUCT, one member
    ...[off("color"), (6 << 24) | 2, 4, off("RED"), 0, off("BLUE"), 7], // ENUM, two values
  ];
  const typeBytes = new Uint8Array(new Uint32Array(types).buffer);
  const header = new DataView(new ArrayBuffer(24));
  header.setUint16(0, 0xeb9f, true);
  header.setUint8(2, 1);
  header.setUint32(4, 24, true);
  header.setUint32(8, 0, true);
  header.setUint32(12, typeBytes.length, true);
  header.setUint32(16, typeBytes.length, true);
  header.setUint32(20, strings.length, true);
  const out = new Uint8Array(24 + typeBytes.length + strings.length);
  out.set(new Uint8Array(header.buffer), 0);
  out.set(typeBytes, 24);
  out.set(new TextEncoder().encode(strings), 24 + typeBytes.length);
  return out;
}

describe("btfEnum", () => {
  test("walks past other kinds to the named enum", () => {
    expect(btfEnum(blob(), "color")).toEqual(new Map([[0, "RED"], [7, "BLUE"]]));
    expect(btfEnum(blob(), "shape")).toBeUndefined();
    expect(() => btfEnum(new Uint8Array(24), "color")).toThrow("not a BTF blob");
  });

  test("this kernel's drop reasons (5.17+)", async () => {
    if (!existsSync("/sys/kernel/btf/vmlinux")) return;
    const reasons = await DropReasons.load("/sys/kernel/btf/vmlinux");
    const format = readFileSync("/sys/kernel/tracing/events/skb/kfree_skb/format", "utf8");
    // the tracepoint's own print format lists the same numbers and names
    for (const [, value, name] of format.matchAll(/\{ (\d+), "(\w+)" \}/g)) expect(reasons.name(Number(value))).toBe(name!);
    expect(reasons.value("NO_SOCKET")).toBeGreaterThan(0);
  });
});
