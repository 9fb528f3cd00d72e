// RAS decoding from recorded tracepoint records: records laid out from format files (this kernel's and written ones),
// fed through the handler as the BPF program delivers them; user guide 5.4 samples reproduced field for field.
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RasEvent } from "../bpf/gen/ras";
import { FamilySet } from "../framework/families";
import { parseJson } from "../storage/document";
import { RasHandler, RAS_SOURCES } from "./ras";
import { aerReason, formatGuid } from "./ras_decode";
import { buildRecord, CaptureSink, TRACEFS_FIXTURES, TRACEFS_FIXTURES_5_15, type FieldInput } from "./testing";
import { parseFormat, readFormat, type TracepointFormat } from "./tp_format";

const source = (type: string) => RAS_SOURCES.findIndex((s) => s.type === type);

/** The formats a recorded tracefs has, by source number. */
function formatsFrom(root: string): Map<number, TracepointFormat> {
  const present = RAS_SOURCES.map((s, i) => [i, s] as const).filter(([, s]) => existsSync(join(root, "events", s.tracepoint)));
  return new Map(present.map(([i, s]) => [i, readFormat(root, s.tracepoint)]));
}

function handler(root = TRACEFS_FIXTURES, backoffSeconds = 1800) {
  const sink = new CaptureSink();
  const formats = formatsFrom(root);
  const h = new RasHandler(formats, sink, () => backoffSeconds);
  const feed = (type: string, values: Record<string, FieldInput>, nowMs?: number, cpu = 3) => {
    const i = source(type);
    const event: RasEvent = { ktime_ns: Number(process.hrtime.bigint()), source: i, cpu, record: Array.from(buildRecord(formats.get(i)!, values)) };
    h.handle(event, nowMs);
  };
  const info = (n = -1) => parseJson(sink.data.at(n)!.info as string) as Record<string, unknown>;
  return { sink, h, feed, info };
}

describe("format files", () => {
  test("this kernel's RAS formats parse as the recorded ones", () => {
    for (const tp of ["ras/mc_event", "ras/non_standard_event", "ras/arm_event"]) {
      const live = `/sys/kernel/tracing/events/${tp}/format`;
      if (!existsSync(live)) continue;
      expect(parseFormat(readFileSync(live, "utf8"))).toEqual(readFormat(TRACEFS_FIXTURES, tp));
    }
  });

  test("fields: scalars, fixed arrays, __data_loc strings and buffers", () => {
    const f = readFormat(TRACEFS_FIXTURES, "ras/aer_event").fields;
    expect(f.get("dev_name")).toMatchObject({ offset: 8, size: 4, dynamic: "data_loc", count: 0 });
    expect(f.get("tlp_header")).toMatchObject({ offset: 20, size: 16, count: 4, type: "u32[]" });
    expect(f.get("common_pid")).toMatchObject({ offset: 4, size: 4, signed: true });
    expect(readFormat(TRACEFS_FIXTURES, "ras/mc_event").fields.get("address")).toMatchObject({ type: "long", size: 8, signed: true });
  });
});

describe("MCE", () => {
  const registers = {
    mcgcap: 0x1000n, mcgstatus: 0x5n, status: 9295429630892703744n, addr: 0x1234_5678_9000n, misc: 0x8cn, synd: 0n,
    ipid: 0x1_0000_0000_b000n, ip: 0xffffffff81000000n, tsc: 123456789n, walltime: 1749600000n,
    cpu: 2, cpuid: 0x806f8, apicid: 4, socketid: 0, cs: 0x10, bank: 5, cpuvendor: 0,
  };

  test("the sample's registers, exact 64-bit values, and the 6.10 fields", () => {
    const { sink, feed, info } = handler();
    feed("mce", { ...registers, ppin: 0xabcdefn, microcode: 0x2b000571 });
    expect(sink.data[0]).toMatchObject({ dev: "CPU/MEM", event: "MCE", type: "Corrected" });
    expect(sink.data[0]!.info).toContain('"banks_msr_status":9295429630892703744');
    expect(info()).toEqual({
      mcg_cpu_cap: 4096, mcg_msr_status: 5, banks_msr_status: 9295429630892703744n, banks_msr_addr: 0x1234_5678_9000,
      banks_msr_misc: 0x8c, mca_synd_msr: 0, mca_ipid_msr: 0x1_0000_0000_b000, instr_pointer: 0xffffffff81000000n,
      tsc_timestamp: 123456789, walltime: 1749600000, cpu: 2, cpuid: 0x806f8, apicid: 4, socketid: 0, code_seg: 0x10,
      bank: 5, cpuvendor: 0, ppin: 0xabcdef, microcode: 0x2b000571,
    });
    expect(sink.inputs[0]!.tracerName).toBe("ras");
  });

  test("severity from MCi_STATUS: UC is UncorrectedRecoverable, the deferred bit UncorrectedDeferred", () => {
    const { sink, feed } = handler();
    feed("mce", { ...registers, status: (1n << 63n) | (1n << 61n) });
    feed("mce", { ...registers, status: (1n << 63n) | (1n << 44n) });
    expect(sink.data.map((d) => d.type)).toEqual(["UncorrectedRecoverable", "UncorrectedDeferred"]);
  });

  test("a 5.15 record (before ppin and microcode) decodes by its own offsets", () => {
    const { feed, info } = handler(TRACEFS_FIXTURES_5_15);
    feed("mce", registers);
    expect(info()).toMatchObject({ cpu: 2, bank: 5, walltime: 1749600000, code_seg: 0x10 });
    expect(info()).not.toHaveProperty("ppin");
  });
});

describe("EDAC", () => {
  const sample = {
    error_type: 0, msg: "memory read error", label: "CPU_SrcID#0_Ha#0_Chan#0_DIMM#0", error_count: 0, mc_index: 0,
    top_layer: 0, middle_layer: 0, lower_layer: -1, address: 7860269056, grain_bits: 7, syndrome: 0,
    driver_detail: " area:DRAM err_code:0000:009f socket:0 ha:0 channel_mask:1 rank:0",
  };

  test("the user guide's EDAC record, info string byte for byte", () => {
    const { sink, feed } = handler();
    feed("edac", sample);
    expect(sink.data[0]).toMatchObject({ dev: "MEM", event: "EDAC", type: "Corrected" });
    expect(sink.data[0]!.info).toBe(
      '{"err_count":0,"err_type":"Corrected","err_msg":"memory read error","label":"CPU_SrcID#0_Ha#0_Chan#0_DIMM#0","mc_index":0,"top_layer":0,"mid_layer":0,"low_layer":-1,"addr":7860269056,"grain":128,"syndrome":0,"driver":" area:DRAM err_code:0000:009f socket:0 ha:0 channel_mask:1 rank:0"}',
    );
  });

  test("error types 1..4", () => {
    const { sink, feed } = handler();
    for (const error_type of [1, 2, 3, 4]) feed("edac", { ...sample, error_type });
    expect(sink.data.map((d) => d.type)).toEqual(["UncorrectedRecoverable", "UncorrectedDeferred", "UncorrectedFatal", "Info"]);
  });
});

describe("ACPI GHES non-standard", () => {
  test("GUIDs as %pUl, raw data in hex, severity by GHES", () => {
    const guid = Uint8Array.from([0x14, 0x11, 0xbc, 0xa5, 0x64, 0x6f, 0xde, 0x4e, 0xb8, 0x63, 0x3e, 0x83, 0xed, 0x7c, 0x83, 0xb1]);
    const { sink, feed, info } = handler();
    feed("acpi", { sec_type: guid, fru_id: new Uint8Array(16), fru_text: "CPU0_DIMM_A1", sev: 2, len: 4, buf: [0xde, 0xad, 0xbe, 0xef] });
    expect(sink.data[0]).toMatchObject({ dev: "ACPI", event: "NON_STANDARD", type: "UncorrectedRecoverable" });
    expect(info()).toEqual({
      severity: 2, sec_type: "a5bc1114-6f64-4ede-b863-3e83ed7c83b1", fru_id: "00000000-0000-0000-0000-000000000000",
      fru_text: "CPU0_DIMM_A1", data_len: 4, raw_data: "de ad be ef",
    });
    expect(formatGuid(guid)).toBe("a5bc1114-6f64-4ede-b863-3e83ed7c83b1");
  });
});

describe("PCIe AER", () => {
  test("the user guide's AER sample", () => {
    const { sink, feed, info } = handler();
    feed("aer", { dev_name: "0000:3b:00.0", status: 0x4000, severity: 0, tlp_header_valid: 0 });
    expect(sink.data[0]).toMatchObject({ dev: "PCIe 0000:3b:00.0", event: "AER", type: "UncorrectedRecoverable" });
    expect(info()).toMatchObject({
      dev_name: "0000:3b:00.0", err_type: "UncorrectedRecoverable", err_reason: "Completion Timeout", tlp_header: "not available",
    });
  });

  test("correctable bits, fatal severity, TLP header", () => {
    const { sink, feed, info } = handler();
    feed("aer", { dev_name: "0000:01:00.0", status: 0x41, severity: 2, tlp_header_valid: 0 });
    expect(info()).toMatchObject({ err_type: "Corrected", err_reason: "Receiver Error, Bad TLP" });
    feed("aer", { dev_name: "0000:01:00.0", status: 0x40000, severity: 1, tlp_header_valid: 1, tlp_header: [0x4a000001, 0x100, 0xfee00000, 0] });
    expect(sink.data[1]!.type).toBe("UncorrectedFatal");
    expect(info()).toMatchObject({ err_reason: "Malformed TLP", tlp_header: "{0x4a000001,0x100,0xfee00000,0x0}" });
    expect(aerReason(0x80000001, false)).toBe("Undefined, Unknown (0x80000000)");
  });
});

describe("MCE threshold interrupts and counters", () => {
  test("THR: every one counted, stored at most once per MceThrBackoff", () => {
    const { sink, feed, h } = handler(TRACEFS_FIXTURES, 1800);
    feed("thr", { vector: 0xf9 }, 1_000_000);
    feed("thr", { vector: 0xf9 }, 1_000_000 + 1_799_000);
    feed("thr", { vector: 0xf9 }, 1_000_000 + 1_800_000, 7);
    expect(sink.data.map((d) => [d.event, d.type, parseJson(d.info as string)])).toEqual([
      ["MCE_THRESHOLD", "Corrected", { vector: 0xf9, cpu: 3 }],
      ["MCE_THRESHOLD", "Corrected", { vector: 0xf9, cpu: 7 }],
    ]);
    const set = new FamilySet({ host: "h", region: "r" });
    h.collect(set.emitterFor("ras"));
    const samples = set.all().find((f) => f.name === "huatuo_bamai_ras_hw_total")!.samples;
    expect(Object.fromEntries(samples.map((s) => [s.labels.type, s.value]))).toEqual({ mce: 0, edac: 0, acpi: 0, aer: 0, thr: 3, arm_ghes: 0 });
  });

  test("ARM processor errors from this kernel's arm_event", () => {
    const { sink, feed, info } = handler();
    feed("arm_ghes", { mpidr: 0x81000100n, midr: 0x410fd0c0n, running_state: 1, psci_state: 0, affinity: 2, sev: 1, cpu: 4 });
    expect(sink.data[0]).toMatchObject({ dev: "CPU", event: "ARM_GHES", type: "Corrected" });
    expect(info()).toEqual({ mpidr: 0x81000100, midr: 0x410fd0c0, running_state: 1, psci_state: 0, affinity_level: 2, severity: 1, cpu: 4 });
  });

  test("timestamp is the event's wall-clock time in ns", () => {
    const { sink, feed } = handler();
    feed("edac", { error_type: 0 });
    const ts = sink.data[0]!.timestamp as bigint;
    expect(Number(ts / 1_000_000n)).toBeGreaterThan(Date.now() - 1000);
    expect(Number(ts / 1_000_000n)).toBeLessThanOrEqual(Date.now());
  });
});

test("fixture formats exist for every source", () => {
  for (const s of RAS_SOURCES) expect(existsSync(join(TRACEFS_FIXTURES, "events", s.tracepoint, "format"))).toBe(true);
});
