// The FFI binding to libhuatuo_bpf.so (ffi-rs), and the one-time extraction of the embedded library to a
// content-addressed path: every start of the same build reuses one file instead of leaving a temporary copy.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DataType, define, open } from "ffi-rs";
import { embeddedAssets } from "./embedded";
import { BpfError } from "./errors";

const ABI_VERSION = 3;
const LIBRARY = "huatuo_bpf";
const FILE_NAME = "libhuatuo_bpf.so";
export const DEFAULT_LIB_DIR = "/run/huatuo-bamai/lib";

const { I32, U32, U64, String: Str, U8Array: Buf } = DataType;
const fn = (retType: DataType, paramsType: DataType[]) => ({ library: LIBRARY, retType, paramsType });

function bind() {
  return define({
    hb_abi_version: fn(I32, []),
    hb_set_log_level: fn(I32, [I32]),
    hb_new: fn(I32, []),
    hb_free: fn(I32, [I32]),
    hb_error: fn(I32, [I32, Buf, U32]),
    hb_log: fn(I32, [I32, Buf, U32]),
    hb_open: fn(I32, [I32, Buf, U64, Str, Str]),
    hb_set_rodata: fn(I32, [I32, Str, Buf, U32]),
    hb_prog_autoload: fn(I32, [I32, Str, I32]),
    hb_map_autocreate: fn(I32, [I32, Str, I32]),
    hb_ringbuf_per_cpu: fn(I32, [I32, Str, U32]),
    hb_load: fn(I32, [I32]),
    hb_attach: fn(I32, [I32, Str, I32, Str, U64]),
    hb_detach: fn(I32, [I32, I32]),
    hb_prog_stats: fn(I32, [I32, Str, Buf]),
    hb_map: fn(I32, [I32, Str]),
    hb_map_info: fn(I32, [I32, I32, Buf]),
    hb_map_lookup: fn(I32, [I32, I32, Buf, Buf, I32]),
    hb_map_update: fn(I32, [I32, I32, Buf, Buf, U64]),
    hb_map_delete: fn(I32, [I32, I32, Buf]),
    hb_map_dump: fn(I32, [I32, I32, Buf, Buf, U32, I32]),
    hb_reader_open: fn(I32, [I32, Str, U32]),
    hb_reader_read: fn(I32, [I32, I32, Buf, U32, I32]),
    hb_reader_lost: fn(I32, [I32, I32, Buf]),
    hb_reader_close: fn(I32, [I32, I32]),
    hb_reader_fd: fn(I32, [I32, I32]),
    hb_poll_start: fn(I32, [I32, Buf, I32]),
    hb_poll_add: fn(I32, [I32, I32, U32]),
    hb_poll_del: fn(I32, [I32, I32]),
    hb_probe_map_type: fn(I32, [I32]),
    hb_probe_prog_type: fn(I32, [I32]),
    hb_mount_tracefs: fn(I32, [Str]),
    hb_cgroupstats: fn(I32, [I32, Buf, U32, Buf, Buf]),
  });
}

type Bound = ReturnType<typeof bind>;
type Arg = number | string | Buffer;
/** The C API (lib/huatuo_bpf.h): each function takes its arguments in order and returns the C int. */
export type NativeApi = { [K in keyof Bound]: (...args: Arg[]) => number };

/** The global handle: errors of calls that have no handle of their own. */
export const HB_GLOBAL = -1;

export interface Native {
  api: NativeApi;
  /** Where the library was loaded from. */
  path: string;
  /** The last error of a handle (or HB_GLOBAL): errno and one-line message. */
  error(handle: number): { errno: number; message: string };
  /** libbpf's captured messages for a handle (verifier logs included). */
  log(handle: number): string;
}

/** Bytes of an ArrayBuffer view as a Buffer over the same memory (ffi-rs passes Buffers in place). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function cString(buf: Buffer, length = buf.indexOf(0)): string {
  return buf.toString("utf8", 0, length < 0 ? buf.length : length);
}

function wrap(bound: Bound, path: string): Native {
  const api = Object.fromEntries(
    Object.entries(bound).map(([name, call]) => [name, (...args: Arg[]) => call(args) as number]),
  ) as NativeApi;
  const scratch = Buffer.alloc(1024);
  return {
    api,
    path,
    error(handle) {
      const errno = api.hb_error(handle, scratch, scratch.length);
      return { errno, message: cString(scratch) };
    },
    log(handle) {
      const buf = Buffer.alloc(64 * 1024);
      return cString(buf, api.hb_log(handle, buf, buf.length));
    },
  };
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Writes bytes to dir/<sha256 prefix>/libhuatuo_bpf.so unless an identical file is already there. */
export function extractTo(baseDir: string, bytes: Uint8Array): string {
  const digest = sha256(bytes);
  const dir = join(baseDir, digest.slice(0, 16));
  const target = join(dir, FILE_NAME);
  if (existsSync(target) && sha256(readFileSync(target)) === digest) return target;
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  // rename is atomic: a concurrent start sees the old file or the whole new one
  const temporary = `${target}.${process.pid}.tmp`;
  writeFileSync(temporary, bytes, { mode: 0o755 });
  renameSync(temporary, target);
  return target;
}

function extract(bytes: Uint8Array): string {
  const configured = process.env.HUATUO_BPF_LIB_DIR;
  if (configured) return extractTo(configured, bytes);
  try {
    return extractTo(DEFAULT_LIB_DIR, bytes);
  } catch (err) {
    // without root (development, tests of non-BPF parts) /run is not writable
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== "EACCES" && code !== "EROFS" && code !== "EPERM") throw err;
    return extractTo(join(tmpdir(), `huatuo-bamai-${process.getuid?.() ?? 0}`, "lib"), bytes);
  }
}

async function load(): Promise<Native> {
  const step = "load native library";
  const { nativeLibraryPath } = await embeddedAssets();
  let path: string;
  try {
    path = extract(await Bun.file(nativeLibraryPath).bytes());
    open({ library: LIBRARY, path });
  } catch (err) {
    throw new BpfError(step, (err as Error).message);
  }
  const native = wrap(bind(), path);
  const abi = native.api.hb_abi_version();
  if (abi !== ABI_VERSION) throw new BpfError(step, `${path} has ABI ${abi}, this build needs ${ABI_VERSION}`);
  return native;
}

let loading: Promise<Native> | undefined;

/** The native layer, extracted and opened once per process. */
export function loadNative(): Promise<Native> {
  loading ??= load().catch((err) => {
    loading = undefined; // a later call may succeed (e.g. once /run is writable)
    throw err;
  });
  return loading;
}
