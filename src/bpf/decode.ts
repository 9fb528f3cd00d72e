// Readers the generated decoders (src/bpf/gen/*.ts) call: little-endian scalars, arrays and C strings.

/** u64 as a number: exact below 2^53 (counters, durations); use the bigint readers for addresses and ids. */
export function u64(view: DataView, offset: number): number {
  return view.getUint32(offset, true) + view.getUint32(offset + 4, true) * 0x1_0000_0000;
}

export function s64(view: DataView, offset: number): number {
  return view.getUint32(offset, true) + view.getInt32(offset + 4, true) * 0x1_0000_0000;
}

export function big64(view: DataView, offset: number): bigint {
  return view.getBigUint64(offset, true);
}

export const bool = (view: DataView, offset: number): boolean => view.getUint8(offset) !== 0;
export const u8 = (view: DataView, offset: number): number => view.getUint8(offset);
export const s8 = (view: DataView, offset: number): number => view.getInt8(offset);
export const u16 = (view: DataView, offset: number): number => view.getUint16(offset, true);
export const s16 = (view: DataView, offset: number): number => view.getInt16(offset, true);
export const u32 = (view: DataView, offset: number): number => view.getUint32(offset, true);
export const s32 = (view: DataView, offset: number): number => view.getInt32(offset, true);

export function readArray<T>(
  view: DataView,
  offset: number,
  count: number,
  stride: number,
  read: (view: DataView, offset: number) => T,
): T[] {
  const out = new Array<T>(count);
  for (let i = 0; i < count; i++) out[i] = read(view, offset + i * stride);
  return out;
}

const utf8 = new TextDecoder();

/** A NUL-terminated string in a fixed char array (kernel comm and names: usually short ASCII). */
export function cString(view: DataView, offset: number, size: number): string {
  let end = 0;
  let ascii = true;
  for (; end < size; end++) {
    const byte = view.getUint8(offset + end);
    if (byte === 0) break;
    if (byte > 0x7f) ascii = false;
  }
  if (!ascii) return utf8.decode(new Uint8Array(view.buffer, view.byteOffset + offset, end));
  let text = "";
  for (let i = 0; i < end; i++) text += String.fromCharCode(view.getUint8(offset + i));
  return text;
}
