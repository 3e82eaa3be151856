// Log lines assembled in one static buffer (no string concatenation: that would allocate).
// Messages are ASCII literals; numbers and ids are appended as decimal or hex.
import { hostLog } from "./host";

const LOG_BYTES_MAX: u32 = 120;
const line = memory.data(LOG_BYTES_MAX);
let length: u32 = 0;

function put(c: u32): void {
  if (length < LOG_BYTES_MAX) store<u8>(line + length++, <u8>c);
}

export function logStart(text: string): void {
  length = 0;
  logText(text);
}

export function logText(text: string): void {
  for (let i = 0, n = text.length; i < n; i++) put(<u32>text.charCodeAt(i) & 0x7f);
}

export function logU64(v: u64): void {
  const digits = memory.data(20);
  let n: i32 = 0;
  do {
    store<u8>(digits + n++, <u8>(48 + v % 10));
    v /= 10;
  } while (v != 0);
  while (n > 0) put(load<u8>(digits + --n));
}

export function logHex(ptr: usize, len: u32): void {
  for (let i: u32 = 0; i < len; i++) {
    const b = <u32>load<u8>(ptr + i);
    put(hexDigit(b >> 4));
    put(hexDigit(b & 15));
  }
}

@inline function hexDigit(d: u32): u32 {
  return d < 10 ? 48 + d : 87 + d;
}

export function logEnd(level: i32): void {
  hostLog(level, line, <i32>length);
}
