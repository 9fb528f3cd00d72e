// Time formats of stored documents: Go's "2006-01-02 15:04:05.000 -0700" and RFC 3339 with nanoseconds, in local time,
// and a wall clock with nanosecond resolution (Date has only milliseconds).

let anchor = newAnchor();

function newAnchor(): { wallNs: bigint; mono: bigint } {
  return { wallNs: BigInt(Date.now()) * 1_000_000n, mono: process.hrtime.bigint() };
}

/**
 * Nanoseconds since the epoch: the wall clock at an anchor plus the monotonic time since. Re-anchors when the two
 * disagree by more than a millisecond (NTP step, settimeofday), so it never strays from the wall clock.
 */
export function wallClockNs(): bigint {
  const ns = anchor.wallNs + (process.hrtime.bigint() - anchor.mono);
  const drift = ns / 1_000_000n - BigInt(Date.now());
  if (drift > 1n || drift < -1n) {
    anchor = newAnchor();
    return anchor.wallNs;
  }
  return ns;
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

function localDate(d: Date): string {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function localClock(d: Date): string {
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `+0800` (colon false) or `+08:00`; the local zone's offset at that instant. */
function zoneOffset(d: Date, colon: boolean): string {
  const minutes = -d.getTimezoneOffset();
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60))}${colon ? ":" : ""}${pad(abs % 60)}`;
}

/** `2025-06-11 16:05:16.251 +0800`: the `time` and `tracer_time` fields. */
export function formatTracerTime(d: Date): string {
  return `${localDate(d)} ${localClock(d)}.${pad(d.getMilliseconds(), 3)} ${zoneOffset(d, false)}`;
}

/** `2025-06-11T16:05:16.251152703+08:00`, or `...Z` in UTC as Go writes it: the `uploaded_time` field. */
export function formatRfc3339Nano(ns: bigint): string {
  const d = new Date(Number(ns / 1_000_000n));
  const fraction = pad(Number(ns % 1_000_000_000n), 9);
  const zone = d.getTimezoneOffset() === 0 ? "Z" : zoneOffset(d, true);
  return `${localDate(d)}T${localClock(d)}.${fraction}${zone}`;
}

const TRACER_TIME = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))? ([+-])(\d\d)(\d\d)$/;

/** Milliseconds since the epoch of a `tracer_time` string, or NaN when it is not one. */
export function parseTracerTime(text: string): number {
  const m = TRACER_TIME.exec(text);
  if (!m) return NaN;
  const [, y, mo, d, h, mi, s, frac = "0", sign, oh, om] = m;
  const utc = Date.UTC(+y!, +mo! - 1, +d!, +h!, +mi!, +s!, Number(frac.padEnd(3, "0").slice(0, 3)));
  const offsetMin = (sign === "-" ? -1 : 1) * (+oh! * 60 + +om!);
  return utc - offsetMin * 60_000;
}

/** The same instant as an RFC 3339 string with any offset, in UTC, keeping every fraction digit. */
export function toUtcRfc3339(text: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!m) return text;
  const utc = new Date(Date.parse(`${m[1]}${m[3]}`)).toISOString().slice(0, 19);
  return m[2] ? `${utc}.${m[2]}Z` : `${utc}Z`;
}
