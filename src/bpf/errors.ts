// Typed errors of the BPF layer: an errno-style code, the step that failed, and a hint an operator can act on.
import { ERRNO_NAMES } from "../sys/errno";

const errnoNames = new Map(ERRNO_NAMES);
// Kernel-internal and libbpf codes that escape to user space.
errnoNames.set(524, "ENOTSUPP");
for (const [value, name] of [
  [4000, "LIBBPF_ERRNO"],
  [4001, "LIBBPF_FORMAT"],
  [4002, "LIBBPF_KVERSION"],
  [4003, "LIBBPF_ENDIAN"],
  [4004, "LIBBPF_INTERNAL"],
  [4005, "LIBBPF_RELOC"],
  [4006, "LIBBPF_LOAD"],
  [4007, "LIBBPF_VERIFY"],
  [4008, "LIBBPF_PROG2BIG"],
  [4009, "LIBBPF_KVER"],
  [4010, "LIBBPF_PROGTYPE"],
  [4011, "LIBBPF_WRNGPID"],
  [4012, "LIBBPF_INVSEQ"],
  [4013, "LIBBPF_NLPARSE"],
] as Array<[number, string]>) {
  errnoNames.set(value, name);
}

function errnoName(errno: number): string {
  return errnoNames.get(Math.abs(errno)) ?? `E${Math.abs(errno)}`;
}

const PERMISSION_HINT = "run as root or grant CAP_BPF and CAP_PERFMON (CAP_SYS_ADMIN before 5.8)";

/** The hint for a failed step, from the errno and the kind of step. */
function hintFor(step: string, errno: number): string | undefined {
  const code = errnoName(errno);
  if (code === "EPERM") return PERMISSION_HINT;
  if (code === "EACCES") {
    return step.startsWith("load") ? "the verifier rejected a program; the log has its reasons" : PERMISSION_HINT;
  }
  if (code === "ENOENT" && step.startsWith("attach")) return "the hook does not exist on this kernel";
  if (code === "ENOMEM" || code === "E2BIG") return "raise RLIMIT_MEMLOCK (kernels before 5.11 charge BPF memory to it)";
  if (code === "LIBBPF_FORMAT") return "the object bytes are not a BPF ELF object";
  return undefined;
}

export interface BpfErrorOptions {
  /** The underlying errno (positive), 0 when the failure is not a system call's. */
  errno?: number;
  hint?: string;
  /** The host lacks a kernel feature: the tracer is reported unsupported, never failed. */
  unsupported?: boolean;
  /** libbpf's messages (verifier log) for debugging. */
  log?: string;
  /** The detail is already a whole message that names the step (the native layer's). */
  whole?: boolean;
}

/** One-line error: `<step>: <detail> — <hint>`. */
export class BpfError extends Error {
  override name = "BpfError";
  readonly code: string;
  readonly errno: number;
  readonly hint?: string;
  readonly unsupported: boolean;
  readonly log?: string;

  constructor(
    readonly step: string,
    detail: string,
    options: BpfErrorOptions = {},
  ) {
    const errno = options.errno ?? 0;
    const hint = options.hint ?? (errno ? hintFor(step, errno) : undefined);
    const text = options.whole ? detail : `${step}: ${detail}`;
    super(hint ? `${text} — ${hint}` : text);
    this.errno = errno;
    this.code = errno ? errnoName(errno) : options.unsupported ? "EUNSUPPORTED" : "EBPF";
    this.hint = hint;
    this.unsupported = options.unsupported ?? false;
    this.log = options.log;
  }
}

/** An error from the native layer, whose message already names what failed. */
export function nativeFailure(step: string, failure: { errno: number; message: string }, log?: string): BpfError {
  return new BpfError(step, failure.message || `${step}: failed`, { errno: failure.errno, whole: true, log });
}
