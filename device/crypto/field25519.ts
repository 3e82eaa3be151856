// Arithmetic in GF(p), p = 2^255 - 19: the generic field layer under ed25519.ts.
//
// Representation (ref10's, from SUPERCOP; Bernstein, Duif, Lange, Schwabe, Yang, "High-speed
// high-security signatures", 2011): an element is ten signed limbs in radix 2^25.5,
//   a = a0 + a1·2^26 + a2·2^51 + a3·2^77 + a4·2^102 + a5·2^128 + a6·2^153 + a7·2^179 + a8·2^204 + a9·2^230,
// even limbs nominally 26 bits and odd limbs 25 bits, each stored as an i32 (FE_BYTES = 40).
//
// Bounds (what every caller in ed25519.ts keeps; test/device/crypto-field.test.ts checks every
// operation against BigInt arithmetic mod p with limbs at these bounds):
// - "tight": what feMul, feSq, feSq2 and feCarry return: |a_even| ≤ 1.01·2^25,
//   |a_odd| ≤ 1.01·2^24 (the carry chain rounds to nearest, so limbs are signed).
// - feFromBytes returns limbs in [0, 2^26) / [0, 2^25), at most twice tight.
// - feAdd/feSub/feNeg do not carry: the sum or difference of two tight or decoded elements,
//   or a tight element and a sum of two tight ones, has |a_even| ≤ 2^27 and |a_odd| ≤ 2^26.
// - feMul/feSq/feSq2 accept any inputs with |a_even| ≤ 2^27 and |a_odd| ≤ 2^26 (ref10 assumes
//   1.65·2^26 and 1.65·2^25): the largest of the ten i64 column sums, column 0, is then below
//   125·2^54 < 2^61 (2^62 doubled by feSq2), so nothing overflows, and the output is tight.
// - feToBytes/feIsNegative/feIsZero accept any limbs within ±2^30 (they carry first).
//
// Products (feMul, feSq) are fully unrolled over locals with the limbs read and written at
// constant offsets: 2^255 ≡ 19 (mod p) folds a column i + j ≥ 10 back with a factor 19, and
// odd·odd limb products carry an extra factor 2 (2^25.5·2^25.5 = 2·2^25·2^25 in this radix).
// Every product is of two sign-extended i32 limbs, which a compiler ahead of time (wasm2c, WAMR
// AOT) can turn into one 32×32→64 multiply on a 32-bit core instead of a 64×64 one.
//
// Every function here is constant-time: no branch or memory index depends on a value. Outputs
// may alias inputs. That holds for the WebAssembly; the core running it must also multiply in
// constant time: a Cortex-M3's 32×32→64 multiplies (UMULL/SMULL/SMLAL, which any 64-bit product
// compiles to there) finish early for small operands, a Cortex-M4's take one cycle. State: 40 (CARRIED) + 4·40 (INV0..INV3) + 32 (BYTES) = 232 bytes.
//
//   feFromBytes(x, bytes); feMul(x, x, x); feToBytes(bytes, x); // bytes = bytes² mod p

export const FE_BYTES: usize = 40;

const CARRIED: usize = memory.data(40, 8); // feToBytes: the input with its limbs carried
const INV0: usize = memory.data(40, 8);    // temporaries of the inversion chains
const INV1: usize = memory.data(40, 8);
const INV2: usize = memory.data(40, 8);
const INV3: usize = memory.data(40, 8);
const BYTES: usize = memory.data(32, 8);   // encodings examined by feIsNegative / feIsZero

export function feZero(o: usize): void { memory.fill(o, 0, FE_BYTES); }
export function feOne(o: usize): void { memory.fill(o, 0, FE_BYTES); store<i32>(o, 1); }
export function feCopy(o: usize, a: usize): void { memory.copy(o, a, FE_BYTES); }

/** o = a + b (limbs not carried). */
export function feAdd(o: usize, a: usize, b: usize): void {
  store<i32>(o, load<i32>(a, 0) + load<i32>(b, 0), 0);
  store<i32>(o, load<i32>(a, 4) + load<i32>(b, 4), 4);
  store<i32>(o, load<i32>(a, 8) + load<i32>(b, 8), 8);
  store<i32>(o, load<i32>(a, 12) + load<i32>(b, 12), 12);
  store<i32>(o, load<i32>(a, 16) + load<i32>(b, 16), 16);
  store<i32>(o, load<i32>(a, 20) + load<i32>(b, 20), 20);
  store<i32>(o, load<i32>(a, 24) + load<i32>(b, 24), 24);
  store<i32>(o, load<i32>(a, 28) + load<i32>(b, 28), 28);
  store<i32>(o, load<i32>(a, 32) + load<i32>(b, 32), 32);
  store<i32>(o, load<i32>(a, 36) + load<i32>(b, 36), 36);
}

/** o = a - b (limbs not carried; may be negative). */
export function feSub(o: usize, a: usize, b: usize): void {
  store<i32>(o, load<i32>(a, 0) - load<i32>(b, 0), 0);
  store<i32>(o, load<i32>(a, 4) - load<i32>(b, 4), 4);
  store<i32>(o, load<i32>(a, 8) - load<i32>(b, 8), 8);
  store<i32>(o, load<i32>(a, 12) - load<i32>(b, 12), 12);
  store<i32>(o, load<i32>(a, 16) - load<i32>(b, 16), 16);
  store<i32>(o, load<i32>(a, 20) - load<i32>(b, 20), 20);
  store<i32>(o, load<i32>(a, 24) - load<i32>(b, 24), 24);
  store<i32>(o, load<i32>(a, 28) - load<i32>(b, 28), 28);
  store<i32>(o, load<i32>(a, 32) - load<i32>(b, 32), 32);
  store<i32>(o, load<i32>(a, 36) - load<i32>(b, 36), 36);
}

/** o = -a (limbs not carried). */
export function feNeg(o: usize, a: usize): void {
  store<i32>(o, -load<i32>(a, 0), 0);
  store<i32>(o, -load<i32>(a, 4), 4);
  store<i32>(o, -load<i32>(a, 8), 8);
  store<i32>(o, -load<i32>(a, 12), 12);
  store<i32>(o, -load<i32>(a, 16), 16);
  store<i32>(o, -load<i32>(a, 20), 20);
  store<i32>(o, -load<i32>(a, 24), 24);
  store<i32>(o, -load<i32>(a, 28), 28);
  store<i32>(o, -load<i32>(a, 32), 32);
  store<i32>(o, -load<i32>(a, 36), 36);
}

/** Carries ten i64 column sums (each |h| < 2^62) into a tight element at o: ref10's chain,
 *  rounding each carry to nearest (so limbs are signed); the carry out of limb 9 has weight
 *  2^255 ≡ 19 and goes back into limb 0. Interleaving two chains (0→4, 1→5, ...) halves the
 *  dependency depth without changing the bounds. */
function carryStore(o: usize, h0: i64, h1: i64, h2: i64, h3: i64, h4: i64, h5: i64, h6: i64, h7: i64, h8: i64, h9: i64): void {
  let c: i64;
  c = (h0 + (1 << 25)) >> 26; h1 += c; h0 -= c << 26;
  c = (h4 + (1 << 25)) >> 26; h5 += c; h4 -= c << 26;
  c = (h1 + (1 << 24)) >> 25; h2 += c; h1 -= c << 25;
  c = (h5 + (1 << 24)) >> 25; h6 += c; h5 -= c << 25;
  c = (h2 + (1 << 25)) >> 26; h3 += c; h2 -= c << 26;
  c = (h6 + (1 << 25)) >> 26; h7 += c; h6 -= c << 26;
  c = (h3 + (1 << 24)) >> 25; h4 += c; h3 -= c << 25;
  c = (h7 + (1 << 24)) >> 25; h8 += c; h7 -= c << 25;
  c = (h4 + (1 << 25)) >> 26; h5 += c; h4 -= c << 26;
  c = (h8 + (1 << 25)) >> 26; h9 += c; h8 -= c << 26;
  c = (h9 + (1 << 24)) >> 25; h0 += c * 19; h9 -= c << 25;
  c = (h0 + (1 << 25)) >> 26; h1 += c; h0 -= c << 26;
  store<i32>(o, <i32>h0, 0);
  store<i32>(o, <i32>h1, 4);
  store<i32>(o, <i32>h2, 8);
  store<i32>(o, <i32>h3, 12);
  store<i32>(o, <i32>h4, 16);
  store<i32>(o, <i32>h5, 20);
  store<i32>(o, <i32>h6, 24);
  store<i32>(o, <i32>h7, 28);
  store<i32>(o, <i32>h8, 32);
  store<i32>(o, <i32>h9, 36);
}

/** o = a carried to tight limbs (same value). */
export function feCarry(o: usize, a: usize): void {
  carryStore(o, load<i32>(a, 0), load<i32>(a, 4), load<i32>(a, 8), load<i32>(a, 12), load<i32>(a, 16),
    load<i32>(a, 20), load<i32>(a, 24), load<i32>(a, 28), load<i32>(a, 32), load<i32>(a, 36));
}

/** o = a · b mod p (ref10 fe_mul): 100 products, each of two sign-extended 32-bit values (one
 *  widening multiply on a 32-bit core such as the Cortex-M3), so the factor 19 of the folded
 *  products is applied once per column rather than to an operand, and the factor 2 of odd·odd
 *  products to the 32-bit limb before it is widened (|2·a_odd| ≤ 2^27). */
export function feMul(o: usize, a: usize, b: usize): void {
  const a1 = load<i32>(a, 4), a3 = load<i32>(a, 12), a5 = load<i32>(a, 20), a7 = load<i32>(a, 28), a9 = load<i32>(a, 36);
  const f0 = <i64>load<i32>(a, 0), f1 = <i64>a1, f2 = <i64>load<i32>(a, 8), f3 = <i64>a3, f4 = <i64>load<i32>(a, 16);
  const f5 = <i64>a5, f6 = <i64>load<i32>(a, 24), f7 = <i64>a7, f8 = <i64>load<i32>(a, 32), f9 = <i64>a9;
  const f1_2 = <i64>(a1 << 1), f3_2 = <i64>(a3 << 1), f5_2 = <i64>(a5 << 1), f7_2 = <i64>(a7 << 1), f9_2 = <i64>(a9 << 1);
  const g0 = <i64>load<i32>(b, 0), g1 = <i64>load<i32>(b, 4), g2 = <i64>load<i32>(b, 8), g3 = <i64>load<i32>(b, 12), g4 = <i64>load<i32>(b, 16);
  const g5 = <i64>load<i32>(b, 20), g6 = <i64>load<i32>(b, 24), g7 = <i64>load<i32>(b, 28), g8 = <i64>load<i32>(b, 32), g9 = <i64>load<i32>(b, 36);
  const h0 = f0 * g0 + 19 * (f1_2 * g9 + f2 * g8 + f3_2 * g7 + f4 * g6 + f5_2 * g5 + f6 * g4 + f7_2 * g3 + f8 * g2 + f9_2 * g1);
  const h1 = f0 * g1 + f1 * g0 + 19 * (f2 * g9 + f3 * g8 + f4 * g7 + f5 * g6 + f6 * g5 + f7 * g4 + f8 * g3 + f9 * g2);
  const h2 = f0 * g2 + f1_2 * g1 + f2 * g0 + 19 * (f3_2 * g9 + f4 * g8 + f5_2 * g7 + f6 * g6 + f7_2 * g5 + f8 * g4 + f9_2 * g3);
  const h3 = f0 * g3 + f1 * g2 + f2 * g1 + f3 * g0 + 19 * (f4 * g9 + f5 * g8 + f6 * g7 + f7 * g6 + f8 * g5 + f9 * g4);
  const h4 = f0 * g4 + f1_2 * g3 + f2 * g2 + f3_2 * g1 + f4 * g0 + 19 * (f5_2 * g9 + f6 * g8 + f7_2 * g7 + f8 * g6 + f9_2 * g5);
  const h5 = f0 * g5 + f1 * g4 + f2 * g3 + f3 * g2 + f4 * g1 + f5 * g0 + 19 * (f6 * g9 + f7 * g8 + f8 * g7 + f9 * g6);
  const h6 = f0 * g6 + f1_2 * g5 + f2 * g4 + f3_2 * g3 + f4 * g2 + f5_2 * g1 + f6 * g0 + 19 * (f7_2 * g9 + f8 * g8 + f9_2 * g7);
  const h7 = f0 * g7 + f1 * g6 + f2 * g5 + f3 * g4 + f4 * g3 + f5 * g2 + f6 * g1 + f7 * g0 + 19 * (f8 * g9 + f9 * g8);
  const h8 = f0 * g8 + f1_2 * g7 + f2 * g6 + f3_2 * g5 + f4 * g4 + f5_2 * g3 + f6 * g2 + f7_2 * g1 + f8 * g0 + 19 * (f9_2 * g9);
  const h9 = f0 * g9 + f1 * g8 + f2 * g7 + f3 * g6 + f4 * g5 + f5 * g4 + f6 * g3 + f7 * g2 + f8 * g1 + f9 * g0;
  carryStore(o, h0, h1, h2, h3, h4, h5, h6, h7, h8, h9);
}

/** o = a² mod p, or 2·a² when shift = 1 (ref10 fe_sq / fe_sq2): the 55 distinct products, the
 *  symmetric ones doubled through a_i·2 (|2·a_even| ≤ 2^28 still fits the 32-bit limb). */
function sqShifted(o: usize, a: usize, shift: i64): void {
  const a0 = load<i32>(a, 0), a1 = load<i32>(a, 4), a2 = load<i32>(a, 8), a3 = load<i32>(a, 12), a4 = load<i32>(a, 16);
  const a5 = load<i32>(a, 20), a6 = load<i32>(a, 24), a7 = load<i32>(a, 28), a8 = load<i32>(a, 32), a9 = load<i32>(a, 36);
  const f0 = <i64>a0, f1 = <i64>a1, f2 = <i64>a2, f3 = <i64>a3, f4 = <i64>a4;
  const f5 = <i64>a5, f6 = <i64>a6, f7 = <i64>a7, f8 = <i64>a8, f9 = <i64>a9;
  const f0_2 = <i64>(a0 << 1), f1_2 = <i64>(a1 << 1), f2_2 = <i64>(a2 << 1), f3_2 = <i64>(a3 << 1), f4_2 = <i64>(a4 << 1);
  const f5_2 = <i64>(a5 << 1), f6_2 = <i64>(a6 << 1), f7_2 = <i64>(a7 << 1), f8_2 = <i64>(a8 << 1), f9_2 = <i64>(a9 << 1);
  const h0 = f0 * f0 + 19 * (f1_2 * f9_2 + f2_2 * f8 + f3_2 * f7_2 + f4_2 * f6 + f5 * f5_2);
  const h1 = f0_2 * f1 + 19 * (f2_2 * f9 + f3_2 * f8 + f4_2 * f7 + f5_2 * f6);
  const h2 = f0_2 * f2 + f1 * f1_2 + 19 * (f3_2 * f9_2 + f4_2 * f8 + f5_2 * f7_2 + f6 * f6);
  const h3 = f0_2 * f3 + f1_2 * f2 + 19 * (f4_2 * f9 + f5_2 * f8 + f6_2 * f7);
  const h4 = f0_2 * f4 + f1_2 * f3_2 + f2 * f2 + 19 * (f5_2 * f9_2 + f6_2 * f8 + f7 * f7_2);
  const h5 = f0_2 * f5 + f1_2 * f4 + f2_2 * f3 + 19 * (f6_2 * f9 + f7_2 * f8);
  const h6 = f0_2 * f6 + f1_2 * f5_2 + f2_2 * f4 + f3 * f3_2 + 19 * (f7_2 * f9_2 + f8 * f8);
  const h7 = f0_2 * f7 + f1_2 * f6 + f2_2 * f5 + f3_2 * f4 + 19 * (f8_2 * f9);
  const h8 = f0_2 * f8 + f1_2 * f7_2 + f2_2 * f6 + f3_2 * f5_2 + f4 * f4 + 19 * (f9 * f9_2);
  const h9 = f0_2 * f9 + f1_2 * f8 + f2_2 * f7 + f3_2 * f6 + f4_2 * f5;
  carryStore(o, h0 << shift, h1 << shift, h2 << shift, h3 << shift, h4 << shift,
    h5 << shift, h6 << shift, h7 << shift, h8 << shift, h9 << shift);
}

/** o = a² mod p. */
export function feSq(o: usize, a: usize): void { sqShifted(o, a, 0); }

/** o = 2·a² mod p (the doubling formula's 2·Z²). */
export function feSq2(o: usize, a: usize): void { sqShifted(o, a, 1); }

/** o = a^(2^n) for n ≥ 1 (public). */
function feSqTimes(o: usize, a: usize, n: i32): void {
  feSq(o, a);
  for (let i = 1; i < n; i++) feSq(o, o);
}

/** o = a^(2^250 - 1), and INV0 = a^11 (which both exponents below need): ref10's chain. */
function pow2p250m1(o: usize, a: usize): void {
  const t0 = INV0, t1 = INV1, t2 = INV2, t3 = INV3;
  feSq(t1, a); feSqTimes(t1, t1, 2);   // a^8
  feMul(t1, a, t1);                    // a^9
  feSq(t0, a); feMul(t0, t0, t1);      // t0 = a^11
  feSq(t2, t0); feMul(t1, t1, t2);     // a^22·a^9 = a^31 = a^(2^5 - 1)
  feSqTimes(t2, t1, 5); feMul(t1, t2, t1);    // 2^10 - 1
  feSqTimes(t2, t1, 10); feMul(t2, t2, t1);   // 2^20 - 1
  feSqTimes(t3, t2, 20); feMul(t2, t3, t2);   // 2^40 - 1
  feSqTimes(t2, t2, 10); feMul(t1, t2, t1);   // 2^50 - 1
  feSqTimes(t2, t1, 50); feMul(t2, t2, t1);   // 2^100 - 1
  feSqTimes(t3, t2, 100); feMul(t2, t3, t2);  // 2^200 - 1
  feSqTimes(t2, t2, 50); feMul(o, t2, t1);    // 2^250 - 1
}

/** o = 1/a = a^(p-2) (Fermat), p - 2 = 2^255 - 21 = (2^250 - 1)·2^5 + 11. 1/0 yields 0. */
export function feInvert(o: usize, a: usize): void {
  pow2p250m1(INV1, a);
  feSqTimes(INV1, INV1, 5);
  feMul(o, INV1, INV0);
}

/** o = a^((p-5)/8) = a^(2^252 - 3) = a^((2^250 - 1)·4 + 1), the exponent of the square root in
 *  RFC 8032 §5.1.3 step 3. */
export function fePow2523(o: usize, a: usize): void {
  pow2p250m1(INV1, a);
  feSqTimes(INV1, INV1, 2);
  feMul(o, INV1, a);
}

/** a = -a if bit = 1, a unchanged if bit = 0; bit must be 0 or 1. Constant-time: with
 *  mask = -bit, (x ^ mask) - mask is -x for an all-ones mask and x for zero. */
export function feNegateIf(a: usize, bit: i32): void {
  const mask = -bit;
  store<i32>(a, (load<i32>(a, 0) ^ mask) - mask, 0);
  store<i32>(a, (load<i32>(a, 4) ^ mask) - mask, 4);
  store<i32>(a, (load<i32>(a, 8) ^ mask) - mask, 8);
  store<i32>(a, (load<i32>(a, 12) ^ mask) - mask, 12);
  store<i32>(a, (load<i32>(a, 16) ^ mask) - mask, 16);
  store<i32>(a, (load<i32>(a, 20) ^ mask) - mask, 20);
  store<i32>(a, (load<i32>(a, 24) ^ mask) - mask, 24);
  store<i32>(a, (load<i32>(a, 28) ^ mask) - mask, 28);
  store<i32>(a, (load<i32>(a, 32) ^ mask) - mask, 32);
  store<i32>(a, (load<i32>(a, 36) ^ mask) - mask, 36);
}

/** o = b if bit = 1, o unchanged if bit = 0; bit must be 0 or 1. Constant-time (masks). */
export function feCmov(o: usize, b: usize, bit: i32): void {
  const mask = -bit;
  for (let i: usize = 0; i < FE_BYTES; i += 4) {
    const x = load<i32>(o + i);
    store<i32>(o + i, x ^ (mask & (x ^ load<i32>(b + i))));
  }
}

/** If bit = 1 swap a and b, if 0 leave them; bit must be 0 or 1. Constant-time (masks). */
export function feCswap(a: usize, b: usize, bit: i32): void {
  const mask = -bit;
  for (let i: usize = 0; i < FE_BYTES; i += 4) {
    const x = load<i32>(a + i), y = load<i32>(b + i);
    const t = mask & (x ^ y);
    store<i32>(a + i, x ^ t);
    store<i32>(b + i, y ^ t);
  }
}

/** 32 little-endian bytes at s to an element with limbs in [0, 2^26) / [0, 2^25) (not carried:
 *  any 255-bit value, p..2^255-1 too); bit 255 is ignored (RFC 8032 §5.1.3 step 1
 *  leaves the y < p check to the caller). Limb i starts at bit ⌈25.5·i⌉; unrolled, as a lookup
 *  decodes two coordinates. */
export function feFromBytes(o: usize, s: usize): void {
  const w0 = load<u64>(s, 0), w1 = load<u64>(s, 8), w2 = load<u64>(s, 16), w3 = load<u64>(s, 24);
  const m26: u64 = (1 << 26) - 1, m25: u64 = (1 << 25) - 1;
  store<i32>(o, <i32>(w0 & m26), 0);                         // bits 0..25
  store<i32>(o, <i32>((w0 >> 26) & m25), 4);                 // 26..50
  store<i32>(o, <i32>(((w0 >> 51) | (w1 << 13)) & m26), 8);  // 51..76
  store<i32>(o, <i32>((w1 >> 13) & m25), 12);                // 77..101
  store<i32>(o, <i32>((w1 >> 38) & m26), 16);                // 102..127
  store<i32>(o, <i32>(w2 & m25), 20);                        // 128..152
  store<i32>(o, <i32>((w2 >> 25) & m26), 24);                // 153..178
  store<i32>(o, <i32>(((w2 >> 51) | (w3 << 13)) & m25), 28); // 179..203
  store<i32>(o, <i32>((w3 >> 12) & m26), 32);                // 204..229
  store<i32>(o, <i32>((w3 >> 38) & m25), 36);                // 230..254
}

/** The canonical 32-byte little-endian encoding of a, in [0, p) (ref10 fe_tobytes after one
 *  carry pass). With h tight, q = ⌊(h + 19)/2^255⌋ ∈ {0, 1} says whether h ≥ p; h + 19·q, with
 *  bit 255 dropped, is then h - p·q. Loops with fixed trip counts: constant-time. */
export function feToBytes(out: usize, a: usize): void {
  feCarry(CARRIED, a);
  let q = (19 * load<i32>(CARRIED, 36) + (1 << 24)) >> 25;
  for (let i: usize = 0; i < 10; i++) q = (load<i32>(CARRIED + (i << 2)) + q) >> (26 - <i32>(i & 1));
  store<i32>(CARRIED, load<i32>(CARRIED) + 19 * q);
  // Exact (floor) carries, each limb into [0, 2^26) or [0, 2^25), packed as they settle; the
  // carry out of limb 9 is the 2^255·q to drop.
  let bits: u64 = 0, count: i32 = 0, carry: i32 = 0, at: usize = 0;
  for (let i: usize = 0; i < 10; i++) {
    const width = 26 - <i32>(i & 1);
    let h = load<i32>(CARRIED + (i << 2)) + carry;
    carry = h >> width;
    h -= carry << width;
    bits |= <u64>h << <u64>count;
    count += width;
    while (count >= 8) { store<u8>(out + at, <u8>bits); at++; bits >>= 8; count -= 8; }
  }
  store<u8>(out, <u8>bits, 31); // the last 7 bits
}

/** The low bit of the canonical value ("negative" in RFC 8032 §5.1.2 terms), 0 or 1. */
export function feIsNegative(a: usize): i32 {
  feToBytes(BYTES, a);
  return load<u8>(BYTES) & 1;
}

/** 1 if a ≡ 0 (mod p), else 0 (constant-time). */
export function feIsZero(a: usize): i32 {
  feToBytes(BYTES, a);
  const bits = load<u64>(BYTES, 0) | load<u64>(BYTES, 8) | load<u64>(BYTES, 16) | load<u64>(BYTES, 24);
  return <i32>(bits == 0);
}
