// Decoders of the RAS tracepoint records into the user guide's hardware-event fields (section 5.4): device,
// event, error severity and the per-source info object. Pure: each takes a record read through its format.
import type { RawRecord } from "./tp_format";

export type Severity =
  | "Corrected"
  | "UncorrectedRecoverable"
  | "UncorrectedDeferred"
  | "UncorrectedFatal"
  | "Info"
  | "Unknown";

export interface RasDecoded {
  dev: string;
  event: "MCE" | "EDAC" | "NON_STANDARD" | "AER" | "MCE_THRESHOLD" | "ARM_GHES";
  type: Severity;
  info: Record<string, unknown>;
}

/** MCi_STATUS bits (arch/x86/include/asm/mce.h): UC and, on AMD, the deferred-error flag. */
const MCI_STATUS_UC = 1n << 61n;
const MCI_STATUS_DEFERRED = 1n << 44n;

/** mce_record field → the name the original reports it under; ppin and microcode exist since 6.10. */
const MCE_FIELDS: Array<[string, string]> = [
  ["mcgcap", "mcg_cpu_cap"], ["mcgstatus", "mcg_msr_status"], ["status", "banks_msr_status"],
  ["addr", "banks_msr_addr"], ["misc", "banks_msr_misc"], ["synd", "mca_synd_msr"], ["ipid", "mca_ipid_msr"],
  ["ip", "instr_pointer"], ["tsc", "tsc_timestamp"], ["walltime", "walltime"], ["cpu", "cpu"], ["cpuid", "cpuid"],
  ["apicid", "apicid"], ["socketid", "socketid"], ["cs", "code_seg"], ["bank", "bank"], ["cpuvendor", "cpuvendor"],
  ["ppin", "ppin"], ["microcode", "microcode"],
];

/** mce:mce_record. 64-bit registers stay exact (bigint, written as JSON integers). */
export function decodeMce(r: RawRecord): RasDecoded {
  const info: Record<string, unknown> = {};
  for (const [field, name] of MCE_FIELDS) {
    const v = r.big(field);
    if (v !== undefined) info[name] = r.format.fields.get(field)!.size === 8 ? v : Number(v);
  }
  const status = r.big("status") ?? 0n;
  const type: Severity = status & MCI_STATUS_DEFERRED ? "UncorrectedDeferred" : status & MCI_STATUS_UC ? "UncorrectedRecoverable" : "Corrected";
  return { dev: "CPU/MEM", event: "MCE", type, info };
}

/** enum hw_event_mc_err_type (include/linux/edac.h). */
const EDAC_TYPES: Severity[] = ["Corrected", "UncorrectedRecoverable", "UncorrectedDeferred", "UncorrectedFatal", "Info"];

/** ras:mc_event (EDAC). */
export function decodeEdac(r: RawRecord): RasDecoded {
  const type = EDAC_TYPES[r.int("error_type") ?? -1] ?? "Unknown";
  const grainBits = r.int("grain_bits") ?? 0;
  const info = {
    err_count: r.int("error_count"),
    err_type: type,
    err_msg: r.str("msg"),
    label: r.str("label"),
    mc_index: r.int("mc_index"),
    top_layer: r.int("top_layer"),
    mid_layer: r.int("middle_layer"),
    low_layer: r.int("lower_layer"),
    addr: r.big("address"),
    grain: 2 ** grainBits,
    syndrome: r.big("syndrome"),
    driver: r.str("driver_detail"),
  };
  return { dev: "MEM", event: "EDAC", type, info };
}

/** GHES severities (enum ghes_severity in drivers/acpi/apei/ghes.c): what ghes passes to these events. */
const GHES_TYPES: Severity[] = ["Info", "Corrected", "UncorrectedRecoverable", "UncorrectedFatal"];

/** A 16-byte guid_t as the kernel's %pUl prints it: the first three groups little-endian. */
export function formatGuid(b: Uint8Array): string {
  if (b.length < 16) return hexBytes(b, "");
  const hex = (from: number, to: number, reverse: boolean) => {
    const part = Array.from(b.subarray(from, to), (x) => x.toString(16).padStart(2, "0"));
    return (reverse ? part.reverse() : part).join("");
  };
  return [hex(0, 4, true), hex(4, 6, true), hex(6, 8, true), hex(8, 10, false), hex(10, 16, false)].join("-");
}

function hexBytes(b: Uint8Array, separator: string): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(separator);
}

/** ras:non_standard_event (ACPI GHES sections no standard subsystem parses). */
export function decodeNonStandard(r: RawRecord): RasDecoded {
  const severity = r.int("sev") ?? -1;
  const data = r.raw("buf") ?? new Uint8Array();
  const info = {
    severity,
    sec_type: formatGuid(r.raw("sec_type") ?? new Uint8Array()),
    fru_id: formatGuid(r.raw("fru_id") ?? new Uint8Array()),
    fru_text: r.str("fru_text"),
    data_len: r.int("len"),
    raw_data: hexBytes(data, " "),
  };
  return { dev: "ACPI", event: "NON_STANDARD", type: GHES_TYPES[severity] ?? "Unknown", info };
}

/** AER status bits of the user guide's tables (PCIe base spec, Correctable / Uncorrectable Error Status). */
const AER_CORRECTABLE: Array<[number, string]> = [
  [0x1, "Receiver Error"], [0x40, "Bad TLP"], [0x80, "Bad DLLP"], [0x100, "Replay Number Rollover"],
  [0x1000, "Replay Timer Timeout"], [0x2000, "Advisory Non-Fatal Error"], [0x4000, "Corrected Internal Error"],
  [0x8000, "Header Log Overflow"],
];
const AER_UNCORRECTABLE: Array<[number, string]> = [
  [0x1, "Undefined"], [0x10, "Data Link Protocol Error"], [0x20, "Surprise Down Error"], [0x1000, "Poisoned TLP"],
  [0x2000, "Flow Control Protocol Error"], [0x4000, "Completion Timeout"], [0x8000, "Completer Abort"],
  [0x10000, "Unexpected Completion"], [0x20000, "Receiver Overflow"], [0x40000, "Malformed TLP"],
  [0x80000, "ECRC Error"], [0x100000, "Unsupported Request"], [0x200000, "ACS Violation"],
  [0x400000, "Uncorrectable Internal Error"], [0x800000, "MC Blocked TLP"], [0x1000000, "AtomicOp Egress Blocked"],
  [0x2000000, "TLP Prefix Blocked"],
];

/** include/linux/aer.h: AER_NONFATAL 0, AER_FATAL 1, AER_CORRECTABLE 2. */
const AER_TYPES: Severity[] = ["UncorrectedRecoverable", "UncorrectedFatal", "Corrected"];

/** The names of the set status bits; bits outside the tables are shown in hex. */
export function aerReason(status: number, correctable: boolean): string {
  const names: string[] = [];
  let rest = status >>> 0;
  for (const [bit, name] of correctable ? AER_CORRECTABLE : AER_UNCORRECTABLE) {
    if (rest & bit) names.push(name);
    rest = (rest & ~bit) >>> 0;
  }
  if (rest) names.push(`Unknown (0x${rest.toString(16)})`);
  return names.join(", ");
}

/** ras:aer_event (PCIe Advanced Error Reporting). */
export function decodeAer(r: RawRecord): RasDecoded {
  const severity = r.int("severity") ?? -1;
  const type = AER_TYPES[severity] ?? "Unknown";
  const status = r.int("status") ?? 0;
  const tlp = r.ints("tlp_header");
  const devName = r.str("dev_name") ?? "";
  const info = {
    dev_name: devName,
    err_type: type,
    err_reason: aerReason(status, severity === 2),
    tlp_header: r.int("tlp_header_valid") && tlp ? `{${tlp.map((d) => `0x${d.toString(16)}`).join(",")}}` : "not available",
    status,
  };
  return { dev: `PCIe ${devName}`, event: "AER", type, info };
}

/** irq_vectors:threshold_apic_entry: the MCE threshold interrupt, raised on corrected errors piling up. */
export function decodeThreshold(r: RawRecord, cpu: number): RasDecoded {
  return { dev: "CPU", event: "MCE_THRESHOLD", type: "Corrected", info: { vector: r.int("vector"), cpu } };
}

/** ras:arm_event (ARM processor error sections from GHES); recent kernels add the section severity `sev`. */
export function decodeArm(r: RawRecord): RasDecoded {
  const severity = r.int("sev");
  const info = {
    mpidr: r.big("mpidr"),
    midr: r.big("midr"),
    running_state: r.int("running_state"),
    psci_state: r.int("psci_state"),
    affinity_level: r.int("affinity"),
    ...(severity !== undefined && { severity }),
    ...(r.has("cpu") && { cpu: r.int("cpu") }),
  };
  const type = severity === undefined ? "Unknown" : (GHES_TYPES[severity] ?? "Unknown");
  return { dev: "CPU", event: "ARM_GHES", type, info };
}
