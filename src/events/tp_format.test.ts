// Tracepoint format parsing and raw record reading: scalars by size and sign, fixed arrays, __data_loc and __rel_loc.
import { expect, test } from "bun:test";
import { parseFormat, RawRecord } from "./tp_format";

const FORMAT = `name: probe
ID: 1
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:s8 level;	offset:8;	size:1;	signed:1;
	field:short adj;	offset:10;	size:2;	signed:1;
	field:u64 big;	offset:16;	size:8;	signed:0;
	field:char comm[16];	offset:24;	size:16;	signed:0;
	field:__data_loc char[] name;	offset:40;	size:4;	signed:0;
	field:__rel_loc u8[] blob;	offset:44;	size:4;	signed:0;

print fmt: "%d", REC->level
`;

test("fields and their kinds", () => {
  const f = parseFormat(FORMAT);
  expect(f.name).toBe("probe");
  expect([...f.fields.keys()]).toEqual(["common_type", "common_pid", "level", "adj", "big", "comm", "name", "blob"]);
  expect(f.fields.get("comm")).toMatchObject({ type: "char[]", count: 16, size: 16 });
  expect(f.fields.get("blob")).toMatchObject({ dynamic: "rel_loc", count: 0 });
});

test("values: signed, exact u64, inline and dynamic strings, relative locations, clamping", () => {
  const bytes = new Uint8Array(64);
  const view = new DataView(bytes.buffer);
  view.setInt8(8, -1);
  view.setInt16(10, -1000, true);
  view.setBigUint64(16, 0xfedcba9876543210n, true);
  bytes.set(new TextEncoder().encode("kworker/0:1\0"), 24);
  bytes.set(new TextEncoder().encode("eth0\0"), 52);
  view.setUint32(40, (5 << 16) | 52, true);
  // __rel_loc counts from the end of its own 4-byte field (48): 57 - 48 = 9, and asks for more than the copy holds
  bytes.set([1, 2, 3], 57);
  view.setUint32(44, (100 << 16) | 9, true);
  const r = new RawRecord(parseFormat(FORMAT), bytes.subarray(0, 60));
  expect([r.int("level"), r.int("adj"), r.big("big"), r.str("comm"), r.str("name")]).toEqual([-1, -1000, 0xfedcba9876543210n, "kworker/0:1", "eth0"]);
  expect([...r.raw("blob")!]).toEqual([1, 2, 3]);
  expect(r.int("missing")).toBeUndefined();
  expect(r.has("name")).toBe(true);
});
