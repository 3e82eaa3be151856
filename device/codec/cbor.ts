// CBOR, RFC 8949: a writer and a reader over one static cursor each, no allocation.
//
// Writer: core deterministic encoding (§4.2.1): preferred serialization (§4.1), i.e. every head's
// argument as short as possible and every float (§3.3) in the shortest of f16/f32/f64 that keeps
// its value exactly; definite lengths only; NaN as 0xf97e00 (§4.2.2). Map key order is the
// caller's job: keys in bytewise lexicographic order of their encodings (§4.2.1).
// On overflow nothing is written past `cap` and cborWriterLength() reports -1.
//
// Reader: decodes one head at a time (§3) and skips whole data items iteratively with a fixed
// nesting limit. Well-formedness per §3 and Appendix F; with `cborStrict` set it also refuses what
// the deterministic profile forbids (§4.2.1): non-shortest heads, indefinite lengths, and floats
// not in their shortest exact form (NaN other than 0xf97e00 included, §4.2.2). It does not check
// map key order or duplicate keys.
//
// Example (write [1, "a"]):
//   cborWriterInit(buf, 16); cborArray(2); cborUint(1); cborText(ptrOfA, 1);
//   const n = cborWriterLength(); // 4: 82 01 61 61

import { inMemory } from "./bounds";

// Major types, §3.1.
export const CBOR_UINT: u8 = 0;
export const CBOR_NINT: u8 = 1;
export const CBOR_BYTES: u8 = 2;
export const CBOR_TEXT: u8 = 3;
export const CBOR_ARRAY: u8 = 4;
export const CBOR_MAP: u8 = 5;
export const CBOR_TAG: u8 = 6;
export const CBOR_SIMPLE: u8 = 7;

// Reader errors (negative, returned by cborReadHead / cborReadBytes / cborReadText).
export const CBOR_E_TRUNCATED: i32 = -1; // input ended inside a head or a string (Appendix F.1)
export const CBOR_E_RESERVED: i32 = -2; // additional info 28-30, or a two-byte simple value < 32 (§3, §3.3)
export const CBOR_E_INDEFINITE: i32 = -3; // additional info 31 where not allowed (§3.2)
export const CBOR_E_NOT_SHORTEST: i32 = -4; // strict mode: head or float not in its shortest form (§4.2.1)
export const CBOR_E_TYPE: i32 = -5; // a different major type than the caller asked for

/** Deepest nesting cborSkip follows (the item itself counts as level 1). */
export const CBOR_SKIP_DEPTH_MAX: i32 = 8;

// ---------------------------------------------------------------------------------------------------
// Writer

let wBuf: usize = 0;
let wCap: u32 = 0;
let wPos: u32 = 0;
let wOverflow: bool = false;

/** Starts a new encoding into [buf, buf + cap). A region outside linear memory overflows at once. */
export function cborWriterInit(buf: usize, cap: u32): void {
  wBuf = buf;
  wCap = cap;
  wPos = 0;
  wOverflow = !inMemory(buf, cap);
}

/** Bytes written so far, or -1 if any write overflowed (then the buffer's content is undefined). */
export function cborWriterLength(): i32 {
  return wOverflow ? -1 : <i32>wPos;
}

/** Reserves n bytes; false (and the writer is poisoned) if they do not fit. */
function reserve(n: u32): bool {
  if (wOverflow || <u64>wPos + <u64>n > <u64>wCap) {
    wOverflow = true;
    return false;
  }
  return true;
}

/** Writes `first`, then the low `n` bytes of `value` in network byte order (§3: heads are big-endian). */
function putBigEndian(first: u32, value: u64, n: u32): void {
  if (!reserve(1 + n)) return;
  const p = wBuf + wPos;
  store<u8>(p, <u8>first);
  for (let i: u32 = 0; i < n; i++) {
    store<u8>(p + 1 + i, <u8>(value >> (<u64>((n - 1 - i) << 3))));
  }
  wPos += 1 + n;
}

/** A head (§3): major type and argument, the argument in its shortest form (§4.1, §4.2.1). */
export function cborHead(major: u8, value: u64): void {
  const first = <u32>(major & 7) << 5;
  if (value < 24) putBigEndian(first | <u32>value, 0, 0);
  else if (value <= 0xff) putBigEndian(first | 24, value, 1);
  else if (value <= 0xffff) putBigEndian(first | 25, value, 2);
  else if (value <= 0xffffffff) putBigEndian(first | 26, value, 4);
  else putBigEndian(first | 27, value, 8);
}

export function cborUint(v: u64): void {
  cborHead(CBOR_UINT, v);
}

/** An integer: major 0 for v >= 0, major 1 with argument -1 - v otherwise (§3.1). */
export function cborInt(v: i64): void {
  if (v >= 0) cborHead(CBOR_UINT, <u64>v);
  else cborHead(CBOR_NINT, <u64>(-1 - v));
}

/** Copies len content bytes after a head; memory.copy tolerates overlap with the source. */
function putString(major: u8, ptr: usize, len: u32): void {
  cborHead(major, len);
  if (!inMemory(ptr, len)) wOverflow = true;
  if (!reserve(len)) return;
  memory.copy(wBuf + wPos, ptr, len);
  wPos += len;
}

export function cborBytes(ptr: usize, len: u32): void {
  putString(CBOR_BYTES, ptr, len);
}

/** A text string; the caller vouches that the bytes are UTF-8 (§3.1, major type 3). */
export function cborText(ptr: usize, len: u32): void {
  putString(CBOR_TEXT, ptr, len);
}

export function cborArray(n: u32): void {
  cborHead(CBOR_ARRAY, n);
}

/** A map of n pairs; the caller writes 2n items after it. */
export function cborMap(n: u32): void {
  cborHead(CBOR_MAP, n);
}

export function cborTag(t: u64): void {
  cborHead(CBOR_TAG, t);
}

export function cborBool(v: bool): void {
  putBigEndian(v ? 0xf5 : 0xf4, 0, 0); // simple values 21/20 (§3.3)
}

export function cborNull(): void {
  putBigEndian(0xf6, 0, 0); // simple value 22 (§3.3)
}

/**
 * The binary16 encoding of v if v is exactly representable in binary16 (IEEE 754), else -1.
 * Works from the binary32 bits, so the caller must first know v is exact in binary32.
 * binary32: 1 sign, 8 exponent (bias 127), 23 fraction; binary16: 1, 5 (bias 15), 10.
 */
function halfBits(f: u32): i32 {
  const sign = (f >> 16) & 0x8000;
  const biased = <i32>((f >> 23) & 0xff);
  const frac = f & 0x7fffff;
  if (biased == 0xff) return <i32>(sign | 0x7c00 | (frac >> 13)); // ±Inf (NaN never reaches here)
  if (biased == 0) return frac == 0 ? <i32>sign : -1; // ±0; binary32 subnormals are < 2^-126
  const e = biased - 127;
  if (e >= -14 && e <= 15) {
    // binary16 normal: the 13 fraction bits binary16 lacks must be zero.
    return (frac & 0x1fff) == 0 ? <i32>(sign | (<u32>(e + 15) << 10) | (frac >> 13)) : -1;
  }
  if (e >= -24 && e < -14) {
    // binary16 subnormal: value = m * 2^-24 with m < 1024; m = significand >> (-1 - e).
    const sig = frac | 0x800000;
    const shift = <u32>(-1 - e); // 14..23
    return (sig & ((<u32>1 << shift) - 1)) == 0 ? <i32>(sign | (sig >> shift)) : -1;
  }
  return -1;
}

/** Width in bytes (2, 4 or 8) of the preferred serialization of v (§4.1, §3.3); NaN -> 2 (§4.2.2). */
function floatWidth(v: f64): u32 {
  if (v != v) return 2; // every NaN is written as the canonical 0xf97e00
  const single = <f32>v; // f64 -> f32 demotion never traps; it rounds
  if (<f64>single != v) return 8;
  return halfBits(reinterpret<u32>(single)) >= 0 ? 2 : 4;
}

/** A float in its shortest exact form: f16 (0xf9), f32 (0xfa) or f64 (0xfb) (§4.1, §4.2.1, §4.2.2). */
export function cborFloat(v: f64): void {
  const width = floatWidth(v);
  if (v != v) putBigEndian(0xf9, 0x7e00, 2);
  else if (width == 2) putBigEndian(0xf9, <u64>halfBits(reinterpret<u32>(<f32>v)), 2);
  else if (width == 4) putBigEndian(0xfa, <u64>reinterpret<u32>(<f32>v), 4);
  else putBigEndian(0xfb, reinterpret<u64>(v), 8);
}

/** Appends bytes that already are CBOR (a pre-encoded data item or part of one). */
export function cborRaw(ptr: usize, len: u32): void {
  if (!inMemory(ptr, len)) wOverflow = true;
  if (!reserve(len)) return;
  memory.copy(wBuf + wPos, ptr, len);
  wPos += len;
}

// ---------------------------------------------------------------------------------------------------
// Reader

/** When true, the reader refuses non-deterministic heads, lengths and floats (§4.2.1, §4.2.2). */
export let cborStrict: bool = false;
/** The last head's argument: integer value, string length, item count, tag number, float bits. */
export let cborValue: u64 = 0;
/** The last head's additional information (low 5 bits of its first byte, §3). 31 = indefinite/break. */
export let cborAdditional: u8 = 0;
/** Where the content of the last string read by cborReadBytes/cborReadText starts. */
export let cborContentPtr: usize = 0;

let rPtr: usize = 0;
let rLen: u32 = 0;
let rPos: u32 = 0;

/** Starts reading [ptr, ptr + len). A region outside linear memory reads as empty (truncated). */
export function cborReaderInit(ptr: usize, len: u32): void {
  rPtr = ptr;
  rLen = inMemory(ptr, len) ? len : 0;
  rPos = 0;
}

/** Bytes consumed so far. */
export function cborReaderOffset(): u32 {
  return rPos;
}

/** Bytes left to read. */
export function cborReaderRemaining(): u32 {
  return rLen - rPos;
}

/**
 * Reads one head (§3) and returns its major type 0..7, setting cborValue and cborAdditional.
 * Strings' contents are not consumed (see cborReadBytes/cborReadText/cborSkip); floats' bits are.
 * Errors: CBOR_E_TRUNCATED, CBOR_E_RESERVED, CBOR_E_INDEFINITE, CBOR_E_NOT_SHORTEST. On error
 * the cursor is left where it was.
 */
export function cborReadHead(): i32 {
  if (rPos >= rLen) return CBOR_E_TRUNCATED;
  const first = <u32>load<u8>(rPtr + rPos);
  const major = <i32>(first >> 5);
  const ai = first & 31;
  let value: u64 = ai;
  let n: u32 = 0;
  if (ai >= 28) {
    if (ai < 31) return CBOR_E_RESERVED; // §3: 28-30 are not well-formed
    // §3.2.1-3.2.2: 31 opens an indefinite-length string/array/map or is the "break" (major 7).
    if (major < 2 || major == 6) return CBOR_E_INDEFINITE;
    if (cborStrict) return CBOR_E_INDEFINITE; // §4.2.1: definite lengths only
    value = 0;
  } else if (ai >= 24) {
    n = <u32>1 << (ai - 24); // 1, 2, 4 or 8 argument bytes
    if (<u64>rPos + 1 + n > <u64>rLen) return CBOR_E_TRUNCATED;
    value = 0;
    for (let i: u32 = 0; i < n; i++) value = (value << 8) | <u64>load<u8>(rPtr + rPos + 1 + i);
    if (major == 7) {
      if (ai == 24 && value < 32) return CBOR_E_RESERVED; // §3.3: two-byte simple values < 32
      if (cborStrict && !floatPreferred(ai, value)) return CBOR_E_NOT_SHORTEST;
    } else if (cborStrict && ai > 24 && value >> (<u64>(n << 2)) == 0) {
      return CBOR_E_NOT_SHORTEST; // would fit in half the bytes (§4.2.1)
    } else if (cborStrict && ai == 24 && value < 24) {
      return CBOR_E_NOT_SHORTEST; // would fit in the first byte
    }
  }
  rPos += 1 + n;
  cborValue = value;
  cborAdditional = <u8>ai;
  return major;
}

/** Whether a float head (ai 25/26/27, bits in `value`) is in preferred serialization (§4.1, §4.2.2). */
function floatPreferred(ai: u32, value: u64): bool {
  if (ai == 25) {
    // Only one NaN is preferred: 0x7e00.
    return (value & 0x7c00) != 0x7c00 || (value & 0x3ff) == 0 || value == 0x7e00;
  }
  if (ai == 26) return floatWidth(<f64>reinterpret<f32>(<u32>value)) == 4;
  if (ai == 27) return floatWidth(reinterpret<f64>(value)) == 8;
  return true; // simple values
}

/** Reads a definite string head of `major` and steps over its content; its length, or an error. */
function readString(major: i32): i32 {
  const start = rPos;
  const m = cborReadHead();
  if (m < 0) return m;
  if (m != major || cborAdditional == 31) {
    rPos = start;
    return m != major ? CBOR_E_TYPE : CBOR_E_INDEFINITE;
  }
  if (cborValue > <u64>(rLen - rPos)) {
    rPos = start;
    return CBOR_E_TRUNCATED;
  }
  cborContentPtr = rPtr + rPos;
  rPos += <u32>cborValue;
  return <i32>cborValue;
}

/** Reads a definite byte string: returns its length (content at cborContentPtr) or an error. */
export function cborReadBytes(): i32 {
  return readString(CBOR_BYTES);
}

/** Reads a definite text string: returns its length (content at cborContentPtr) or an error. */
export function cborReadText(): i32 {
  return readString(CBOR_TEXT);
}

// cborSkip's explicit stack: per open container, items still expected (definite) or items seen
// (indefinite), and its kind: 0 definite, 4/5 indefinite array/map, 2/3 indefinite byte/text string.
const skipCount = memory.data(8 * CBOR_SKIP_DEPTH_MAX, 8);
const skipKind = memory.data(CBOR_SKIP_DEPTH_MAX, 1);

/**
 * Skips one whole data item (§3), nested items included, without recursion: an explicit stack of at
 * most CBOR_SKIP_DEPTH_MAX levels. Checks well-formedness as in Appendix F: truncation, reserved
 * values, misplaced breaks, odd indefinite maps, wrong or indefinite chunks in indefinite strings,
 * tags without content. Returns false (cursor undefined) on any of these or if nesting is too deep.
 */
export function cborSkip(): bool {
  let depth: i32 = 1;
  store<u64>(skipCount, 1);
  store<u8>(skipKind, 0);
  let tagOpen = false; // a tag head was read and its content has not started yet (§3.4)
  while (depth > 0) {
    const top = depth - 1;
    const countAt = skipCount + (<usize>top << 3);
    const kind = <i32>load<u8>(skipKind + top);
    const count = load<u64>(countAt);
    if (kind == 0 && count == 0) {
      depth--;
      continue;
    }
    const m = cborReadHead();
    if (m < 0) return false;
    const indefinite = cborAdditional == 31;
    if (m == 7 && indefinite) {
      // "break" (§3.2.1): closes an indefinite item; never in a definite one, after a tag or a map key.
      if (kind == 0 || tagOpen || (kind == 5 && (count & 1) != 0)) return false;
      depth--;
      continue;
    }
    // §3.2.3: the chunks of an indefinite string are definite strings of the same major type.
    if ((kind == 2 || kind == 3) && (m != kind || indefinite)) return false;
    tagOpen = m == 6;
    if (!tagOpen) store<u64>(countAt, kind == 0 ? count - 1 : count + 1); // a tag's content is the item
    const left = <u64>(rLen - rPos);
    if (m == 2 || m == 3) {
      if (indefinite) {
        if (!skipPush(depth, <u8>m, 0)) return false;
        depth++;
      } else {
        if (cborValue > left) return false;
        rPos += <u32>cborValue;
      }
    } else if (m == 4 || m == 5) {
      // Every item takes at least one byte: a count beyond the bytes left is truncated input.
      if (!indefinite && cborValue > left) return false;
      if (!skipPush(depth, indefinite ? <u8>m : 0, m == 5 ? cborValue << 1 : cborValue)) return false;
      depth++;
    }
  }
  return true;
}

function skipPush(depth: i32, kind: u8, count: u64): bool {
  if (depth >= CBOR_SKIP_DEPTH_MAX) return false;
  store<u64>(skipCount + (<usize>depth << 3), count);
  store<u8>(skipKind + depth, kind);
  return true;
}
