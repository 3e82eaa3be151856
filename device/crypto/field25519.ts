// Arithmetic in GF(p), p = 2^255 - 19: the generic field layer under ed25519.ts.
//
// Representation (TweetNaCl's, whose bounds are machine-checked): an element is 16 signed limbs
// of radix 2^16, a = Σ a[i]·2^(16i), each limb stored as an i32, so FE_BYTES = 64. Limbs are
// loose: feMul leaves them in [0, 2^16] (limb 0 may exceed that by a small multiple of 38),
// feAdd/feSub of such elements stay below 2^18 in magnitude, and a product of two such limbs
// summed over one column (at most 16 terms, 15 of them weighted by 38) stays below 2^45, so i64
// accumulators never overflow. Only feToBytes yields the canonical value in [0, p).
//
// Every function here is constant-time: fixed trip counts, no branch or memory index that depends
// on a value. Outputs may alias inputs. State: 128 (ACC) + 128 (CANON) + 64 (POW) + 32 (BYTES)
// = 352 bytes.
//
//   feFromBytes(x, bytes); feMul(x, x, x); feToBytes(bytes, x); // bytes = bytes² mod p

export const FE_BYTES: usize = 64;
const LIMBS: usize = 16;

const ACC: usize = memory.data(16 * 8, 8);   // i64 columns of a product, then carried
const CANON: usize = memory.data(16 * 8, 8); // feToBytes: value minus p, selected in or not
const POW: usize = memory.data(64, 8);       // fePow's running power (its output may alias its base)
const BYTES: usize = memory.data(32, 8);     // encodings compared by feEqual / feIsNegative

@inline function limb(a: usize, i: usize): i64 { return <i64>load<i32>(a + (i << 2)); }

export function feZero(o: usize): void { memory.fill(o, 0, FE_BYTES); }
export function feOne(o: usize): void { memory.fill(o, 0, FE_BYTES); store<i32>(o, 1); }
export function feCopy(o: usize, a: usize): void { memory.copy(o, a, FE_BYTES); }

/** o = a + b (limbs not carried). */
export function feAdd(o: usize, a: usize, b: usize): void {
  for (let i: usize = 0; i < LIMBS << 2; i += 4) store<i32>(o + i, load<i32>(a + i) + load<i32>(b + i));
}

/** o = a - b (limbs not carried; may be negative). */
export function feSub(o: usize, a: usize, b: usize): void {
  for (let i: usize = 0; i < LIMBS << 2; i += 4) store<i32>(o + i, load<i32>(a + i) - load<i32>(b + i));
}

/** One carry pass over 16 i64 limbs at c: each limb to [0, 2^16), the carry out of limb 15
 *  (weight 2^256 ≡ 38 mod p) folded into limb 0. Arithmetic shifts make it exact for negatives. */
function carry(c: usize): void {
  for (let i: usize = 0; i < LIMBS; i++) {
    const v = load<i64>(c + (i << 3));
    const high = v >> 16;
    store<i64>(c + (i << 3), v & 0xffff);
    const next = i < LIMBS - 1 ? c + ((i + 1) << 3) : c;
    store<i64>(next, load<i64>(next) + (i < LIMBS - 1 ? high : 38 * high));
  }
}

/** o = a · b mod p. Product scanning: column k gathers a[i]·b[k-i] plus 38·(column k+16),
 *  since 2^256 ≡ 38 (mod p); then two carry passes. */
export function feMul(o: usize, a: usize, b: usize): void {
  for (let k: usize = 0; k < LIMBS; k++) {
    let low: i64 = 0;
    for (let i: usize = 0; i <= k; i++) low += limb(a, i) * limb(b, k - i);
    let high: i64 = 0;
    for (let i: usize = k + 1; i < LIMBS; i++) high += limb(a, i) * limb(b, k + LIMBS - i);
    store<i64>(ACC + (k << 3), low + 38 * high);
  }
  carry(ACC);
  carry(ACC);
  for (let i: usize = 0; i < LIMBS; i++) store<i32>(o + (i << 2), <i32>load<i64>(ACC + (i << 3)));
}

/** o = a² mod p. */
export function feSqr(o: usize, a: usize): void { feMul(o, a, a); }

/** o = a^e for the sparse exponents used here: e = 2^(top+2) - 1 minus the bits skipA and skipB
 *  (square-and-multiply with the pattern public and fixed, so constant-time). */
function fePow(o: usize, a: usize, top: i32, skipA: i32, skipB: i32): void {
  feCopy(POW, a);
  for (let bit = top; bit >= 0; bit--) {
    feSqr(POW, POW);
    if (bit != skipA && bit != skipB) feMul(POW, POW, a);
  }
  feCopy(o, POW);
}

/** o = 1/a = a^(p-2) (Fermat); p - 2 = 2^255 - 21 = all bits 0..254 set except bits 2 and 4.
 *  1/0 yields 0. */
export function feInvert(o: usize, a: usize): void { fePow(o, a, 253, 2, 4); }

/** o = a^((p-5)/8) = a^(2^252 - 3), the exponent of the square root in RFC 8032 §5.1.3 step 3. */
export function fePow2523(o: usize, a: usize): void { fePow(o, a, 250, 1, 1); }

/** If bit = 1 swap a and b, if 0 leave them; bit must be 0 or 1. Constant-time (masks). */
export function feCswap(a: usize, b: usize, bit: i32): void {
  const mask = -bit;
  for (let i: usize = 0; i < LIMBS << 2; i += 4) {
    const x = load<i32>(a + i), y = load<i32>(b + i);
    const t = mask & (x ^ y);
    store<i32>(a + i, x ^ t);
    store<i32>(b + i, y ^ t);
  }
}

/** 32 little-endian bytes at s to an element; bit 255 is ignored (RFC 8032 §5.1.3 step 1 leaves
 *  the y < p check to the caller). */
export function feFromBytes(o: usize, s: usize): void {
  for (let i: usize = 0; i < LIMBS; i++) store<i32>(o + (i << 2), <i32>load<u16>(s + (i << 1)));
  store<i32>(o, load<i32>(o, 60) & 0x7fff, 60);
}

/** The canonical 32-byte little-endian encoding of a, in [0, p). Three carry passes bring every
 *  limb into [0, 2^16); then p is subtracted twice, each time kept only if it did not borrow. */
export function feToBytes(out: usize, a: usize): void {
  for (let i: usize = 0; i < LIMBS; i++) store<i64>(ACC + (i << 3), limb(a, i));
  carry(ACC);
  carry(ACC);
  carry(ACC);
  for (let round = 0; round < 2; round++) {
    // CANON = ACC - p, limb by limb with borrow; p's limbs are 0xffed, 0xffff × 14, 0x7fff.
    let borrow: i64 = 0;
    for (let i: usize = 0; i < LIMBS; i++) {
      const pLimb: i64 = i == 0 ? 0xffed : i == LIMBS - 1 ? 0x7fff : 0xffff;
      const v = load<i64>(ACC + (i << 3)) - pLimb - borrow;
      borrow = (v >> 16) & 1;
      store<i64>(CANON + (i << 3), i == LIMBS - 1 ? v : v & 0xffff);
    }
    // Keep ACC - p when it did not go negative (borrow out of limb 15 is 0).
    const keep: i64 = borrow - 1; // all ones when borrow = 0
    for (let i: usize = 0; i < LIMBS; i++) {
      const x = load<i64>(ACC + (i << 3)), y = load<i64>(CANON + (i << 3));
      store<i64>(ACC + (i << 3), x ^ (keep & (x ^ y)));
    }
  }
  for (let i: usize = 0; i < LIMBS; i++) store<u16>(out + (i << 1), <u16>load<i64>(ACC + (i << 3)));
}

/** The low bit of the canonical value ("negative" in RFC 8032 §5.1.2 terms), 0 or 1. */
export function feIsNegative(a: usize): i32 {
  feToBytes(BYTES, a);
  return load<u8>(BYTES) & 1;
}

/** 1 if a ≡ b (mod p), else 0 (constant-time). */
export function feEqual(a: usize, b: usize): i32 {
  feSub(POW, a, b);
  return feIsZero(POW);
}

/** 1 if a ≡ 0 (mod p), else 0 (constant-time). */
export function feIsZero(a: usize): i32 {
  feToBytes(BYTES, a);
  let bits: u64 = 0;
  for (let i: usize = 0; i < 32; i += 8) bits |= load<u64>(BYTES + i);
  return <i32>(bits == 0);
}
