// Deterministic CBOR (RFC 8949 §4.2.1 "core deterministic encoding") for everything that is hashed
// or signed: transactions, co-signatures, device readings. The encoder writes the one canonical
// form; the strict decoder accepts only that form, so `encode(decode(b))` equals `b` for every `b`
// it accepts. cbor-x stays the fast general-purpose codec and serves tests as an independent check.
import { latin1Range } from "./byte-strings.ts";
import { CborError } from "./errors.ts";

/** A CBOR tag (major type 6) around a value. */
export class Tagged {
  constructor(
    readonly tag: number,
    readonly value: CborValue,
  ) {}
}

/** Float values that must be encoded as floats even when integral (SenML `v`). */
export class CborFloat {
  constructor(readonly value: number) {}
}

export type CborValue =
  | number
  | bigint
  | string
  | boolean
  | null
  | undefined
  | Uint8Array
  | CborValue[]
  | Map<CborValue, CborValue>
  | Tagged
  | CborFloat;

export interface DecodeLimits {
  depthMax: number;
  itemsMax: number; // array/map entries in one container
  bytesMax: number; // byte or text string length
}

export const decodeLimitsDefault: DecodeLimits = { depthMax: 16, itemsMax: 65_536, bytesMax: 1 << 20 };

const textEncoder = new TextEncoder();
const textDecoder = new TextDecoder("utf-8", { fatal: true });

// ---- encoder ---------------------------------------------------------------------------------

// One buffer reused by encode() calls that do not nest (a map's keys are encoded inside its
// encoding): a fresh 256-byte buffer per call showed in block execution, which encodes several
// small items per reading.
let spare: Uint8Array | undefined = new Uint8Array(1024);

class Writer {
  private buf: Uint8Array;
  length = 0;
  constructor() {
    this.buf = spare ?? new Uint8Array(256);
    spare = undefined;
  }

  /** Hands the buffer back for the next encode(); the writer is not used after. */
  release(): void {
    if (this.buf.length <= 1 << 16) spare = this.buf;
  }

  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.length + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }

  byte(b: number): void {
    this.reserve(1);
    this.buf[this.length++] = b;
  }

  bytes(b: Uint8Array): void {
    this.reserve(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }

  /**
   * A text string. ASCII (SenML's names and units, every map key here) is copied char by char:
   * TextEncoder.encode made a malloc'd array per string, a dozen per reading in block execution.
   */
  text(v: string): void {
    const n = v.length;
    let ascii = true;
    for (let i = 0; i < n && ascii; i++) ascii = v.charCodeAt(i) < 0x80;
    if (!ascii) {
      const b = textEncoder.encode(v);
      this.head(3, b.length);
      return this.bytes(b);
    }
    this.head(3, n);
    this.reserve(n);
    const buf = this.buf;
    const at = this.length;
    for (let i = 0; i < n; i++) buf[at + i] = v.charCodeAt(i);
    this.length = at + n;
  }

  /** Head with the shortest argument (§4.2.1). */
  head(major: number, value: number | bigint): void {
    if (typeof value === "number" && value >= 0 && value <= Number.MAX_SAFE_INTEGER && Number.isInteger(value)) return this.headNumber(major << 5, value);
    const v = BigInt(value);
    const m = major << 5;
    if (v < 0x100000000n) this.headNumber(m, Number(v));
    else if (v < 0x10000000000000000n) {
      this.byte(m | 27);
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, v);
      this.bytes(b);
    } else throw new CborError("CBOR_RANGE", `integer ${v} does not fit in 64 bits`);
  }

  /** The head of a safe integer (numberHead). */
  private headNumber(m: number, v: number): void {
    this.reserve(9);
    this.length = numberHead(this.buf, this.length, m, v);
  }

  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Shortest of f16/f32/f64 that holds `v` exactly (§4.2.2 preferred serialization). */
function writeFloat(w: Writer, v: number): void {
  if (Number.isNaN(v)) return w.bytes(Uint8Array.of(0xf9, 0x7e, 0x00));
  const h = toFloat16Bits(v);
  if (h !== undefined) return w.bytes(Uint8Array.of(0xf9, h >> 8, h & 0xff));
  const b = new Uint8Array(9);
  const view = new DataView(b.buffer);
  if (Math.fround(v) === v) {
    b[0] = 0xfa;
    view.setFloat32(1, v);
    return w.bytes(b.subarray(0, 5));
  }
  b[0] = 0xfb;
  view.setFloat64(1, v);
  w.bytes(b);
}

/** IEEE 754 half-precision bits of `v` if it is exactly representable, else undefined. */
export function toFloat16Bits(v: number): number | undefined {
  if (Object.is(v, 0)) return 0x0000;
  if (Object.is(v, -0)) return 0x8000;
  if (v === Infinity) return 0x7c00;
  if (v === -Infinity) return 0xfc00;
  const sign = v < 0 ? 0x8000 : 0;
  const a = Math.abs(v);
  // Subnormal halves are multiples of 2^-24 below 2^-14.
  if (a < 2 ** -14) {
    const m = a * 2 ** 24;
    return Number.isInteger(m) ? sign | m : undefined;
  }
  const e = Math.floor(Math.log2(a));
  if (e > 15) return undefined;
  const exp = 2 ** e > a ? e - 1 : 2 ** (e + 1) <= a ? e + 1 : e; // guard log2 rounding
  const m = (a / 2 ** exp - 1) * 1024;
  if (!Number.isInteger(m) || exp > 15) return undefined;
  return sign | ((exp + 15) << 10) | m;
}

/**
 * §4.2.1: map keys sorted by the bytewise lexicographic order of their deterministic encodings.
 * Compares bytes [a, aEnd) of `x` with [b, bEnd) of `y` without a view of either (the decoder
 * compares two ranges of its input).
 */
function compareRanges(x: Uint8Array, a: number, aEnd: number, y: Uint8Array, b: number, bEnd: number): number {
  const n = Math.min(aEnd - a, bEnd - b);
  for (let i = 0; i < n; i++) if (x[a + i] !== y[b + i]) return x[a + i] - y[b + i];
  return aEnd - a - (bEnd - b);
}

const compareBytes = (a: Uint8Array, b: Uint8Array): number => compareRanges(a, 0, a.length, b, 0, b.length);

function writeValue(w: Writer, v: CborValue): void {
  if (v === null) return w.byte(0xf6);
  if (v === undefined) return w.byte(0xf7);
  if (v === false) return w.byte(0xf4);
  if (v === true) return w.byte(0xf5);
  if (typeof v === "number") {
    if (Number.isSafeInteger(v)) return v >= 0 ? w.head(0, v) : w.head(1, -1 - v);
    return writeFloat(w, v);
  }
  if (typeof v === "bigint") return v >= 0n ? w.head(0, v) : w.head(1, -1n - v);
  if (typeof v === "string") return w.text(v);
  if (v instanceof Uint8Array) {
    w.head(2, v.length);
    return w.bytes(v);
  }
  if (v instanceof CborFloat) return writeFloat(w, v.value);
  if (Array.isArray(v)) {
    w.head(4, v.length);
    for (const item of v) writeValue(w, item);
    return;
  }
  if (v instanceof Map) {
    const entries = [...v.entries()].map(([k, val]) => [encode(k), val] as const);
    entries.sort((a, b) => compareBytes(a[0], b[0]));
    for (let i = 1; i < entries.length; i++) {
      if (compareBytes(entries[i - 1][0], entries[i][0]) === 0) throw new CborError("CBOR_DUPLICATE_KEY", "map has a duplicate key");
    }
    w.head(5, entries.length);
    for (const [k, val] of entries) {
      w.bytes(k);
      writeValue(w, val);
    }
    return;
  }
  if (v instanceof Tagged) {
    w.head(6, v.tag);
    return writeValue(w, v.value);
  }
  throw new CborError("CBOR_TYPE", `cannot encode a value of type ${typeof v}`);
}

/**
 * Writes the shortest head (§4.2.1) of major type `m` (already shifted: major << 5) with the safe
 * non-negative integer `v` into `b` at `i` (9 bytes must fit); returns the offset after it. Byte by
 * byte: BigInt arithmetic per head showed in block execution. For writers of fixed shapes too
 * (shared/attestation.ts).
 */
export function numberHead(b: Uint8Array, i: number, m: number, v: number): number {
  if (v < 24) b[i++] = m | v;
  else if (v < 0x100) {
    b[i++] = m | 24;
    b[i++] = v;
  } else if (v < 0x10000) {
    b[i++] = m | 25;
    b[i++] = v >>> 8;
    b[i++] = v & 0xff;
  } else if (v < 0x100000000) {
    b[i++] = m | 26;
    b[i++] = v >>> 24;
    b[i++] = (v >>> 16) & 0xff;
    b[i++] = (v >>> 8) & 0xff;
    b[i++] = v & 0xff;
  } else {
    const hi = Math.floor(v / 0x100000000);
    const lo = v >>> 0;
    b[i++] = m | 27;
    b[i++] = hi >>> 24;
    b[i++] = (hi >>> 16) & 0xff;
    b[i++] = (hi >>> 8) & 0xff;
    b[i++] = hi & 0xff;
    b[i++] = lo >>> 24;
    b[i++] = (lo >>> 16) & 0xff;
    b[i++] = (lo >>> 8) & 0xff;
    b[i++] = lo & 0xff;
  }
  return i;
}

/** How many bytes numberHead writes for `v`: the same widths. */
export function numberHeadBytes(v: number): number {
  return v < 24 ? 1 : v < 0x100 ? 2 : v < 0x10000 ? 3 : v < 0x100000000 ? 5 : 9;
}

/** Encodes `value` in core deterministic CBOR. */
export function encode(value: CborValue): Uint8Array {
  const w = new Writer();
  try {
    writeValue(w, value);
    return w.result();
  } finally {
    w.release();
  }
}

// ---- strict decoder --------------------------------------------------------------------------

/** Smallest argument each width may carry (§4.2.1), by additional information 24 to 27: a table, since `2 **` per head showed in profiles. */
const widthMin = [24, 0x100, 0x10000, 0x100000000];

class Reader {
  offset = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly limits: DecodeLimits,
    /** Byte strings as views of `bytes` (decodeViews) rather than their own copies. */
    readonly views = false,
  ) {}

  fail(what: string): never {
    throw new CborError("CBOR_MALFORMED", `${what} at byte ${this.offset}`);
  }

  take(n: number): Uint8Array {
    if (n > this.bytes.length - this.offset) this.fail(`truncated: ${n} bytes needed`);
    const out = this.bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return out;
  }

  /**
   * A text string of `n` bytes. ASCII, which is valid UTF-8 and reads the same as latin1, is read in
   * place; anything else goes through the fatal TextDecoder, which refuses invalid UTF-8.
   */
  text(n: number): string {
    const bytes = this.bytes;
    const from = this.offset;
    if (n > bytes.length - from) this.fail(`truncated: ${n} bytes needed`);
    let ascii = true;
    for (let i = from; i < from + n && ascii; i++) ascii = bytes[i] < 0x80;
    if (ascii) {
      this.offset = from + n;
      return latin1Range(bytes, from, from + n);
    }
    try {
      return textDecoder.decode(this.take(n));
    } catch {
      return this.fail("text string is not valid UTF-8");
    }
  }

  // The last head read (head()): fields rather than a returned tuple, which cost an array (and,
  // destructured, an iterator) per item: bench:net's allocation profile put a third of a gateway's
  // allocated bytes under this decoder. value() copies them to locals before reading further.
  major = 0;
  arg: number | bigint = 0;
  info = 0;

  /**
   * Reads a head into major, arg and info. The argument is a number when it is a safe integer
   * (bigint only beyond 2^53: BigInt per head showed in block execution). Non-shortest arguments
   * are refused (§4.2.1).
   */
  head(): void {
    const bytes = this.bytes;
    if (this.offset >= bytes.length) this.fail("truncated: 1 bytes needed");
    const ib = bytes[this.offset++];
    const major = ib >> 5;
    const info = ib & 0x1f;
    this.major = major;
    this.info = info;
    if (info < 24) {
      this.arg = info;
      return;
    }
    if (info > 27) this.fail(info === 31 ? "indefinite length is not deterministic" : `reserved additional information ${info}`);
    const size = 1 << (info - 24);
    if (size > bytes.length - this.offset) this.fail(`truncated: ${size} bytes needed`);
    const o = this.offset;
    this.offset += size;
    let v: number | bigint;
    if (size === 1) v = bytes[o];
    else if (size === 2) v = (bytes[o] << 8) | bytes[o + 1];
    else if (size === 4) v = bytes[o] * 0x1000000 + ((bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3]);
    else {
      const hi = bytes[o] * 0x1000000 + ((bytes[o + 1] << 16) | (bytes[o + 2] << 8) | bytes[o + 3]);
      const lo = bytes[o + 4] * 0x1000000 + ((bytes[o + 5] << 16) | (bytes[o + 6] << 8) | bytes[o + 7]);
      v = hi < 0x200000 ? hi * 0x100000000 + lo : (BigInt(hi) << 32n) | BigInt(lo);
    }
    if (major !== 7) {
      const min = widthMin[info - 24]; // smallest value needing this width
      if (v < min) this.fail("integer or length not in shortest form");
    }
    this.arg = v;
  }

  length(v: number | bigint, max: number): number {
    if (v > max) this.fail(`length ${v} over the limit ${max}`);
    return Number(v);
  }

  value(depth: number): CborValue {
    if (depth > this.limits.depthMax) this.fail(`nesting deeper than ${this.limits.depthMax}`);
    this.head();
    const major = this.major;
    const arg = this.arg;
    const info = this.info;
    switch (major) {
      case 0:
        return arg;
      case 1: {
        if (typeof arg === "number" && arg < Number.MAX_SAFE_INTEGER) return -1 - arg;
        return -1n - BigInt(arg);
      }
      case 2: {
        const b = this.take(this.length(arg, this.limits.bytesMax));
        return this.views ? b : b.slice();
      }
      case 3:
        return this.text(this.length(arg, this.limits.bytesMax));
      case 4: {
        const n = this.length(arg, this.limits.itemsMax);
        const out: CborValue[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
        return out;
      }
      case 5: {
        const n = this.length(arg, this.limits.itemsMax);
        const out = new Map<CborValue, CborValue>();
        let previous = -1; // the previous key's encoding: bytes [previous, previousEnd)
        let previousEnd = -1;
        for (let i = 0; i < n; i++) {
          const start = this.offset;
          const key = this.value(depth + 1);
          if (previous >= 0 && compareRanges(this.bytes, previous, previousEnd, this.bytes, start, this.offset) >= 0) this.fail("map keys not in deterministic order or duplicated");
          if (typeof key !== "number" && typeof key !== "string" && typeof key !== "bigint") this.fail("map key is not an integer or text");
          previous = start;
          previousEnd = this.offset;
          out.set(key, this.value(depth + 1));
        }
        return out;
      }
      case 6:
        if (typeof arg !== "number") this.fail(`tag number ${arg} too large`);
        return new Tagged(Number(arg), this.value(depth + 1));
      default:
        return this.simple(info, arg);
    }
  }

  simple(info: number, arg: number | bigint): CborValue {
    if (info === 20) return false;
    if (info === 21) return true;
    if (info === 22) return null;
    if (info === 23) return undefined;
    if (info < 25) this.fail(`unassigned simple value ${arg}`);
    const size = 1 << (info - 24);
    let v: number;
    if (size === 2) v = halfToNumber(Number(arg));
    else if (size === 4) {
      floatBits.setUint32(0, Number(arg));
      v = floatBits.getFloat32(0);
    } else {
      if (typeof arg === "bigint") floatBits.setBigUint64(0, arg);
      else {
        floatBits.setUint32(0, Math.floor(arg / 0x100000000));
        floatBits.setUint32(4, arg % 0x100000000);
      }
      v = floatBits.getFloat64(0);
    }
    if (Number.isNaN(v) && !(size === 2 && arg === 0x7e00)) this.fail("NaN not encoded as f97e00");
    // Preferred serialization: the width writeFloat would choose, the shortest that holds v exactly.
    const shortest = Number.isNaN(v) || toFloat16Bits(v) !== undefined ? 2 : Math.fround(v) === v ? 4 : 8;
    if (shortest !== size) this.fail("float not in its shortest exact form");
    return new CborFloat(v);
  }
}

/** The decoder's scratch for a float's bits (decoding is synchronous, so one serves every call). */
const floatBits = new DataView(new ArrayBuffer(8));

function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/**
 * Decodes exactly one deterministic CBOR item filling all of `bytes`. Floats come back as
 * `CborFloat` so that re-encoding is exact; integers as numbers (bigint beyond 2^53). Byte strings
 * come back through the input's own `slice()`: copies of a Uint8Array, views of a Buffer (Node's
 * Buffer.prototype.slice does not copy).
 */
export function decode(bytes: Uint8Array, limits: DecodeLimits = decodeLimitsDefault): CborValue {
  return decodeWith(new Reader(bytes, limits));
}

/**
 * decode(), with every byte string a view of `bytes` instead of a copy: for input that is never
 * written again and outlives what is decoded from it, such as a transaction's or a block's bytes.
 * Copies there were a malloc'd store per reading (each over V8's 64-byte on-heap limit), made
 * anew each of the three or four times a validator decodes a reading batch.
 */
export function decodeViews(bytes: Uint8Array, limits: DecodeLimits = decodeLimitsDefault): CborValue {
  return decodeWith(new Reader(bytes, limits, true));
}

function decodeWith(r: Reader): CborValue {
  const v = r.value(0);
  if (r.offset !== r.bytes.length) r.fail(`${r.bytes.length - r.offset} trailing bytes`);
  return v;
}
