// Ed25519 (RFC 8032 §5.1): key generation, signing and verification, pure functions over
// caller-supplied byte ranges. The curve is edwards25519, -x^2 + y^2 = 1 + d·x^2·y^2 over
// GF(2^255 - 19) (field25519.ts), of prime order L (scalar25519.ts), hashed with SHA-512.
// The group arithmetic follows ref10 (SUPERCOP; Bernstein et al., "High-speed high-security
// signatures", 2011): extended coordinates, the complete a = -1 formulas, and
// [s]B from signed radix-16 digits over a fixed-base table (base25519.ts).
//
// Static memory (no allocation anywhere), in bytes:
//   ed25519.ts      2,544 state: points H, R, Q 480 and verification's U, A, 4 multiples of A 960;
//                           sliding-window digits 512; 6 field temporaries 240; table entry 64,
//                           radix-16 digits 64; scalars and encodings 224
//                      96 constants (d, 2d, sqrt(-1))
//   base25519.ts    2,048 state (the fixed-base table, filled on first use) + 64 constants (B)
//   field25519.ts     232 state
//   scalar25519.ts    512 state + 32 constant (L)
//   sha512.ts         320 state + 704 constants (K, H0; shared with SHA-256)
//   sha256.ts         160 state
//   total           6,712 (5,816 state + 896 constants), checked by test/device/crypto.test.ts.
//   The firmware, which signs but never verifies, links 1,472 bytes of verification state less.
// Cost of [s]B: 64 table lookups and additions, 60 doublings, one inversion: about 780 field
// multiplications and 500 squarings. Per signature through wasm2c: 0.88 M x86 instructions
// (-O2; 18.4 M with the previous radix-2^16 ladder), and 1.63 M Cortex-M3 instructions per
// signed reading on the emulated mps2-an385 board (37.2 M before). Verification: about 253
// doublings and 100 additions.
//
// Side channels: public-key derivation and signing run in constant time with respect to the seed,
// the secret scalar and the nonce: every table lookup reads all 8 entries of its row and keeps
// one by mask, the conditional negation is by mask, the addition formulas are complete (no case
// split), and the field and mod-L arithmetic is constant-time. Verification handles only public
// data and is variable-time (sliding windows, branches on the scalars' digits).
//
// Not reentrant: all temporaries are static, and signing/verification use sha512.ts's single
// context (a caller must not hold a sha512Init..Final open across these calls).
//
//   ed25519PublicKey(seed, pub);                 // 32 -> 32 bytes
//   ed25519Sign(seed, pub, msg, len, sig);       // 64-byte signature
//   ed25519Verify(pub, msg, len, sig);           // true iff valid
import {
  FE_BYTES, feAdd, feSub, feNeg, feMul, feSq, feSq2, feOne, feZero, feCopy, feNegateIf, feCswap,
  feFromBytes, feToBytes, feInvert, fePow2523, feIsNegative, feIsZero,
} from "./field25519";
import { BASE_POINT, BASE_TABLE } from "./base25519";
import { sha512, sha512Init, sha512Update, sha512Final } from "./sha512";
import { scReduce, scMulAdd, scIsCanonical } from "./scalar25519";

// ---- Constants (32-byte little-endian encodings; loaded with feFromBytes where needed) ----

/** d = -121665/121666 mod p (RFC 8032 §5.1). */
const D_BYTES: usize = memory.data<u64>([0x75eb4dca135978a3, 0x00700a4d4141d8ab, 0x8cc740797779e898, 0x52036cee2b6ffe73]);
/** 2d mod p, the k of the addition formula (§5.1.4). */
const D2_BYTES: usize = memory.data<u64>([0xebd69b9426b2f159, 0x00e0149a8283b156, 0x198e80f2eef3d130, 0x2406d9dc56dffce7]);
/** sqrt(-1) = 2^((p-1)/4) mod p (§5.1.3 step 3). */
const SQRT_M1_BYTES: usize = memory.data<u64>([0xc4ee1b274a0ea0b0, 0x2f431806ad2fe478, 0x2b4d00993dfbd7a7, 0x2b8324804fc1df0b]);

const TABLE_ROWS: i32 = 4;          // base25519.ts: rows for 2^0, 2^64, 2^128, 2^192
const TABLE_ROW_STRIDE: i32 = 16;   // radix-16 digits between two rows' positions (64 bits)
const ENTRY_BYTES: usize = 64;      // affine x, y: 32 bytes each
const SLIDE_DIGIT_MAX: i32 = 7;     // verify's windows: odd digits up to ±7 (B's from table row 0)

// ---- Points ----
// Four field elements each, 160 bytes, in one of ref10's forms:
//   p3 "extended" (X, Y, Z, T): x = X/Z, y = Y/Z, x·y = T/Z (§5.1.4);
//   p2 "projective" (X, Y, Z): the first three of a p3;
//   p1p1 "completed" (X, Y, Z, T): x = X/Z, y = Y/T, what additions and doublings return;
//   cached (Y+X, Y-X, Z, 2d·T): a point prepared as the addend; with Z = 1 it is ref10's
//   "precomputed" form of an affine point, and the addition skips the multiplication by Z.
const POINT_BYTES: usize = 4 * FE_BYTES;
@inline function X(p: usize): usize { return p; }
@inline function Y(p: usize): usize { return p + FE_BYTES; }
@inline function Z(p: usize): usize { return p + 2 * FE_BYTES; }
@inline function T(p: usize): usize { return p + 3 * FE_BYTES; }
@inline function YPX(q: usize): usize { return q; }
@inline function YMX(q: usize): usize { return q + FE_BYTES; }
@inline function T2D(q: usize): usize { return q + 3 * FE_BYTES; }

// ---- Static state ----

const H: usize = memory.data(<i32>POINT_BYTES, 8);  // the running result (p3, or p2 within doublings)
const R: usize = memory.data(<i32>POINT_BYTES, 8);  // p1p1 out of each addition or doubling
const Q: usize = memory.data(<i32>POINT_BYTES, 8);  // cached: the addend being added
const U: usize = memory.data(<i32>POINT_BYTES, 8);  // verify: p3 operand of an addition
const A: usize = memory.data(<i32>POINT_BYTES, 8);  // verify: -A, the negated public key (p3)
const AI: usize = memory.data(4 * <i32>POINT_BYTES, 8); // verify: -A, -3A, -5A, -7A (cached)
const TMP: usize = memory.data(<i32>FE_BYTES, 8);    // D of an addition, (X1+Y1)² of a doubling, 2d
const ENTRY: usize = memory.data(<i32>ENTRY_BYTES, 8); // the table entry a lookup selected (x ‖ y)
const DIGITS: usize = memory.data(64, 8);           // sign: the nonce's signed radix-16 digits
const A_SLIDE: usize = memory.data(256, 8);         // verify: k's sliding-window digits
const B_SLIDE: usize = memory.data(256, 8);         // verify: S's sliding-window digits
// Field temporaries of decodeNegated and encode (which never call each other).
const F0: usize = memory.data(<i32>FE_BYTES, 8);
const F1: usize = memory.data(<i32>FE_BYTES, 8);
const F2: usize = memory.data(<i32>FE_BYTES, 8);
const F3: usize = memory.data(<i32>FE_BYTES, 8);
const F4: usize = memory.data(<i32>FE_BYTES, 8);
const EXPANDED: usize = memory.data(64, 8); // SHA-512(seed): secret scalar s ‖ prefix (§5.1.5)
const NONCE: usize = memory.data(64, 8);    // sign: r, a 64-byte digest reduced in place to 32
const CHALLENGE: usize = memory.data(64, 8); // k = SHA-512(R ‖ A ‖ M), reduced in place to 32
const ENCODED: usize = memory.data(32, 8);  // R being built (sign) / [S]B - [k]A encoded (verify)

// ---- Group law (ref10 ge_*.h; formulas of Hisil, Wong, Carter, Dawson 2008 for a = -1) ----

/** r (p1p1) = p (p3) + q (cached). With qAffine, q's Z is taken as 1 (ref10 ge_madd) and not
 *  read. Complete on edwards25519: also right for p = q, for the identity, and for q = -p. */
function geAdd(r: usize, p: usize, q: usize, qAffine: bool): void {
  feAdd(X(r), Y(p), X(p));
  feSub(Y(r), Y(p), X(p));
  feMul(Z(r), X(r), YPX(q));  // A' = (Y1+X1)·(Y2+X2)
  feMul(Y(r), Y(r), YMX(q));  // B' = (Y1-X1)·(Y2-X2)
  feMul(T(r), T2D(q), T(p));  // C = 2d·T1·T2
  if (qAffine) {              // public: which call site, never a value
    feAdd(TMP, Z(p), Z(p));   // D = 2·Z1
  } else {
    feMul(X(r), Z(p), Z(q));
    feAdd(TMP, X(r), X(r));   // D = 2·Z1·Z2
  }
  feSub(X(r), Z(r), Y(r));    // E = A' - B'
  feAdd(Y(r), Z(r), Y(r));    // H = A' + B'
  feAdd(Z(r), TMP, T(r));     // G = D + C
  feSub(T(r), TMP, T(r));     // F = D - C
}

/** r (p1p1) = 2·p, p read as p2 (ref10 ge_p2_dbl). r must not alias p. */
function geDouble(r: usize, p: usize): void {
  feSq(X(r), X(p));           // X1²
  feSq(Z(r), Y(p));           // Y1²
  feSq2(T(r), Z(p));          // 2·Z1²
  feAdd(Y(r), X(p), Y(p));
  feSq(TMP, Y(r));            // (X1+Y1)²
  feAdd(Y(r), Z(r), X(r));    // Y1² + X1²
  feSub(Z(r), Z(r), X(r));    // Y1² - X1²
  feSub(X(r), TMP, Y(r));     // 2·X1·Y1
  feSub(T(r), T(r), Z(r));    // 2·Z1² - (Y1² - X1²)
}

/** r (p2) = p (p1p1); r may alias p. */
function p1p1ToP2(r: usize, p: usize): void {
  feMul(X(r), X(p), T(p));
  feMul(Y(r), Y(p), Z(p));
  feMul(Z(r), Z(p), T(p));
}

/** r (p3) = p (p1p1); r must not alias p. */
function p1p1ToP3(r: usize, p: usize): void {
  feMul(X(r), X(p), T(p));
  feMul(Y(r), Y(p), Z(p));
  feMul(Z(r), Z(p), T(p));
  feMul(T(r), X(p), Y(p));
}

/** r (cached) = p (p3). */
function p3ToCached(r: usize, p: usize): void {
  feAdd(YPX(r), Y(p), X(p));
  feSub(YMX(r), Y(p), X(p));
  feCopy(Z(r), Z(p));
  feFromBytes(TMP, D2_BYTES);
  feMul(T2D(r), T(p), TMP);
}

function p3Identity(p: usize): void { feZero(X(p)); feOne(Y(p)); feOne(Z(p)); feZero(T(p)); }

/** q (cached) = -q when bit = 1, q when bit = 0: -(x, y) = (-x, y) swaps Y+X with Y-X and
 *  negates 2d·T. Constant-time (masks). */
function cachedNegateIf(q: usize, bit: i32): void {
  feCswap(YPX(q), YMX(q), bit);
  feNegateIf(T2D(q), bit);
}

/** q (cached, affine) = the affine point (x, y) at ENTRY, negated when negative = 1: (y+x, y-x,
 *  2d·x·y) of (±x, y). Constant-time (the negation is by mask). */
function entryToCached(q: usize, negative: i32): void {
  feFromBytes(X(q), ENTRY);            // x, in q's first slot for now
  feFromBytes(Z(q), ENTRY + 32);       // y, in q's (unused) Z slot
  feNegateIf(X(q), negative);
  feMul(T2D(q), X(q), Z(q));
  feFromBytes(TMP, D2_BYTES);
  feMul(T2D(q), T2D(q), TMP);
  feSub(YMX(q), Z(q), X(q));
  feAdd(YPX(q), Z(q), X(q));
}

// ---- The fixed-base table (base25519.ts), filled on first use ----

let baseTableReady = false;

/** out = x ‖ y, the canonical encodings of p's (p3) affine coordinates. */
function storeAffine(out: usize, p: usize): void {
  feInvert(F0, Z(p));
  feMul(F1, X(p), F0);
  feToBytes(out, F1);
  feMul(F1, Y(p), F0);
  feToBytes(out + 32, F1);
}

/** Fills BASE_TABLE: row j holds 1..8 times P = 2^(64j)·B. Public data only (no secret involved). */
function buildBaseTable(): void {
  feFromBytes(X(U), BASE_POINT);
  feFromBytes(Y(U), BASE_POINT + 32);
  feOne(Z(U));
  feMul(T(U), X(U), Y(U));
  for (let row = 0; row < TABLE_ROWS; row++) {
    for (let i = 0; row > 0 && i < 64; i++) { // P = 2^64·P
      geDouble(R, U);
      p1p1ToP3(U, R);
    }
    p3ToCached(Q, U);
    memory.copy(H, U, POINT_BYTES);
    for (let k = 0; k < 8; k++) { // H = (k+1)·P
      storeAffine(BASE_TABLE + <usize>(row * 8 + k) * ENTRY_BYTES, H);
      geAdd(R, H, Q, false);
      p1p1ToP3(H, R);
    }
  }
  baseTableReady = true;
}

@inline function needBaseTable(): void {
  if (!baseTableReady) buildBaseTable();
}

/** q (cached, affine) = ±(k+1)·B for public k = 0..7 (table row 0); variable-time index. */
function loadBaseMultiple(q: usize, k: i32, negative: i32): void {
  needBaseTable();
  memory.copy(ENTRY, BASE_TABLE + <usize>k * ENTRY_BYTES, ENTRY_BYTES);
  entryToCached(q, negative);
}

/** q (cached, affine) = digit·2^(64·row)·B for a secret digit in [-8, 8] (ref10 select):
 *  all 8 entries of the row are read and the one wanted kept by mask (none for 0: the identity
 *  (0, 1) stays), then negated by mask. No branch or address depends on the digit. */
function selectEntry(q: usize, row: i32, digit: i32): void {
  const negative = <i32>(<u32>digit >> 31);
  const magnitude = digit - ((-negative & digit) << 1);
  for (let c: usize = 0; c < ENTRY_BYTES; c += 32) { // x, then y
    let w0: u64 = <u64>(c != 0), w1: u64 = 0, w2: u64 = 0, w3: u64 = 0; // identity: x = 0, y = 1
    let e = BASE_TABLE + <usize>(row * 8) * ENTRY_BYTES + c;
    for (let k = 1; k <= 8; k++, e += ENTRY_BYTES) {
      // All ones when magnitude == k: (magnitude ^ k) - 1 is negative only for 0.
      const mask = <u64>(-<i64>(<u32>((magnitude ^ k) - 1) >> 31));
      w0 ^= mask & (w0 ^ load<u64>(e, 0));
      w1 ^= mask & (w1 ^ load<u64>(e, 8));
      w2 ^= mask & (w2 ^ load<u64>(e, 16));
      w3 ^= mask & (w3 ^ load<u64>(e, 24));
    }
    store<u64>(ENTRY + c, w0, 0); store<u64>(ENTRY + c, w1, 8);
    store<u64>(ENTRY + c, w2, 16); store<u64>(ENTRY + c, w3, 24);
  }
  entryToCached(q, negative);
}

/** DIGITS = the 32-byte scalar s (s < 2^255) as 64 signed radix-16 digits e_i in [-8, 8),
 *  e_63 in [0, 8], s = Σ e_i·16^i (ref10 ge_scalarmult_base). Constant-time. */
function recodeRadix16(s: usize): void {
  for (let i: usize = 0; i < 32; i++) {
    const b = load<u8>(s + i);
    store<i8>(DIGITS + 2 * i, <i8>(b & 15));
    store<i8>(DIGITS + 2 * i + 1, <i8>(b >> 4));
  }
  let carry: i32 = 0;
  for (let i: usize = 0; i < 63; i++) {
    const e = <i32>load<i8>(DIGITS + i) + carry;
    carry = (e + 8) >> 4;
    store<i8>(DIGITS + i, <i8>(e - (carry << 4)));
  }
  store<i8>(DIGITS + 63, <i8>(<i32>load<i8>(DIGITS + 63) + carry));
}

/** H = [s]B for a secret 32-byte scalar s < 2^255 (§5.1.5 step 3, §5.1.6 step 3), constant-time:
 *  s = Σ_m 16^m · Σ_row e_(16·row + m)·2^(64·row), evaluated by Horner in m, so each m costs
 *  4 doublings (none for the first) and 4 table lookups with additions: 64 additions and 60
 *  doublings for any s. */
function scalarMulBase(s: usize): void {
  needBaseTable();
  recodeRadix16(s);
  p3Identity(H);
  for (let m = TABLE_ROW_STRIDE - 1; m >= 0; m--) {
    if (m < TABLE_ROW_STRIDE - 1) {
      geDouble(R, H); p1p1ToP2(H, R);
      geDouble(R, H); p1p1ToP2(H, R);
      geDouble(R, H); p1p1ToP2(H, R);
      geDouble(R, H); p1p1ToP3(H, R);
    }
    for (let row = 0; row < TABLE_ROWS; row++) {
      selectEntry(Q, row, <i32>load<i8>(DIGITS + <usize>(row * TABLE_ROW_STRIDE + m)));
      geAdd(R, H, Q, true);
      p1p1ToP3(H, R);
    }
  }
  // The digits and the last entry selected (ENTRY, Q) are secret: cleared. H is [s]B, which the
  // caller publishes (R of a signature, or the public key), and R the sum that became H.
  memory.fill(DIGITS, 0, 64);
  memory.fill(ENTRY, 0, ENTRY_BYTES);
  memory.fill(Q, 0, POINT_BYTES);
}

/** out[0..255] = the 32-byte scalar a in sliding windows: odd digits in [-7, 7] at least 4
 *  apart, a = Σ out_i·2^i (ref10 slide, with its ±15 bound lowered to ±7). Variable-time. */
function slide(out: usize, a: usize): void {
  for (let i: usize = 0; i < 256; i++) store<i8>(out + i, <i8>((load<u8>(a + (i >> 3)) >> <u8>(i & 7)) & 1));
  for (let i: i32 = 0; i < 256; i++) {
    if (load<i8>(out + <usize>i) == 0) continue;
    for (let b: i32 = 1; b <= 6 && i + b < 256; b++) {
      const next = <i32>load<i8>(out + <usize>(i + b));
      if (next == 0) continue;
      const cur = <i32>load<i8>(out + <usize>i);
      if (cur + (next << b) <= SLIDE_DIGIT_MAX) {
        store<i8>(out + <usize>i, <i8>(cur + (next << b)));
        store<i8>(out + <usize>(i + b), 0);
      } else if (cur - (next << b) >= -SLIDE_DIGIT_MAX) {
        store<i8>(out + <usize>i, <i8>(cur - (next << b)));
        for (let k = i + b; k < 256; k++) {
          if (load<i8>(out + <usize>k) == 0) { store<i8>(out + <usize>k, 1); break; }
          store<i8>(out + <usize>k, 0);
        }
      } else {
        break;
      }
    }
  }
}

/** H (p2) = [b]B + [a]A, A the point in A (here -A), both scalars < 2^253 and public: Straus
 *  with sliding windows (ref10 ge_double_scalarmult_vartime), B's odd multiples 1, 3, 5, 7 from
 *  the fixed-base table's first row. Variable-time. */
function doubleScalarMulVartime(a: usize, b: usize): void {
  slide(A_SLIDE, a);
  slide(B_SLIDE, b);
  // AI[i] = (2i + 1)·A, cached; U = 2A.
  p3ToCached(AI, A);
  geDouble(R, A); p1p1ToP3(U, R);
  for (let i: usize = 0; i < 3; i++) {
    geAdd(R, U, AI + i * POINT_BYTES, false);
    p1p1ToP3(H, R);
    p3ToCached(AI + (i + 1) * POINT_BYTES, H);
  }
  p3Identity(H);
  let i: i32 = 255;
  while (i >= 0 && load<i8>(A_SLIDE + <usize>i) == 0 && load<i8>(B_SLIDE + <usize>i) == 0) i--;
  for (; i >= 0; i--) {
    geDouble(R, H);
    const ad = <i32>load<i8>(A_SLIDE + <usize>i);
    if (ad != 0) {
      p1p1ToP3(U, R);
      memory.copy(Q, AI + <usize>((ad < 0 ? -ad : ad) >> 1) * POINT_BYTES, POINT_BYTES);
      cachedNegateIf(Q, <i32>(ad < 0));
      geAdd(R, U, Q, false);
    }
    const bd = <i32>load<i8>(B_SLIDE + <usize>i);
    if (bd != 0) {
      p1p1ToP3(U, R);
      loadBaseMultiple(Q, (bd < 0 ? -bd : bd) - 1, <i32>(bd < 0));
      geAdd(R, U, Q, true);
    }
    p1p1ToP2(H, R);
  }
}

// ---- Encoding (§5.1.2) and decoding (§5.1.3) ----

/** out = the 32-byte encoding of point p (p2 or p3): y with the low bit of x in bit 255. */
function encode(out: usize, p: usize): void {
  const zInv = F0, x = F1, y = F2;
  feInvert(zInv, Z(p));
  feMul(x, X(p), zInv);
  feMul(y, Y(p), zInv);
  feToBytes(out, y);
  store<u8>(out, load<u8>(out, 31) | <u8>(feIsNegative(x) << 7), 31);
}

/** A = -(the point encoded at s), following §5.1.3; false if s is not a valid encoding.
 *  Variable-time (public keys are public). Negated because verification needs -A. */
function decodeNegated(s: usize): bool {
  const u = F0, v = F1, x2 = F2, t = F3, c = F4;
  // Step 1: y from bits 0..254; y >= p is not a valid encoding.
  feFromBytes(Y(A), s);
  feToBytes(ENCODED, Y(A));
  if (load<u64>(ENCODED, 24) != (load<u64>(s, 24) & 0x7fffffffffffffff) || load<u64>(ENCODED, 16) != load<u64>(s, 16)
    || load<u64>(ENCODED, 8) != load<u64>(s, 8) || load<u64>(ENCODED, 0) != load<u64>(s, 0)) return false;
  const sign = <i32>(load<u8>(s, 31) >> 7);
  // Step 2: x^2 = u/v with u = y^2 - 1, v = d·y^2 + 1.
  feOne(Z(A));
  feSq(u, Y(A));
  feFromBytes(c, D_BYTES);
  feMul(v, u, c);
  feSub(u, u, Z(A));
  feAdd(v, v, Z(A));
  // Step 3: candidate root x = u·v^3·(u·v^7)^((p-5)/8).
  feSq(x2, v);           // v^2
  feMul(t, x2, v);       // v^3
  feSq(x2, x2);          // v^4
  feMul(x2, x2, t);      // v^7
  feMul(x2, x2, u);      // u·v^7
  fePow2523(x2, x2);
  feMul(x2, x2, t);
  feMul(X(A), x2, u);
  // If v·x^2 = -u, multiply x by sqrt(-1); if neither ±u, there is no square root: invalid.
  feSq(c, X(A));
  feMul(c, c, v);
  feSub(t, c, u);
  if (!feIsZero(t)) {
    feAdd(c, c, u);
    if (!feIsZero(c)) return false;
    feFromBytes(c, SQRT_M1_BYTES);
    feMul(X(A), X(A), c);
  }
  // Step 4: x = 0 with the sign bit set is invalid; otherwise pick the root whose low bit is the
  // sign bit, then negate it (we want -A): i.e. keep x when its parity differs from the sign.
  if (feIsZero(X(A))) {
    if (sign) return false;
  } else if (feIsNegative(X(A)) == sign) {
    feNeg(X(A), X(A));
  }
  feMul(T(A), X(A), Y(A));
  return true;
}

// ---- The scheme ----

/** EXPANDED = SHA-512(seed) with its low half clamped into the secret scalar s
 *  (§5.1.5 steps 1-2: clear bits 0-2 and 255, set bit 254). */
function expandSeed(seed: usize): void {
  sha512(seed, 32, EXPANDED);
  store<u8>(EXPANDED, load<u8>(EXPANDED) & 248);
  store<u8>(EXPANDED, (load<u8>(EXPANDED, 31) & 127) | 64, 31);
}

/** CHALLENGE = SHA-512(R ‖ A ‖ M) mod L (§5.1.6 step 4, §5.1.7 step 2), from the encodings given. */
function challenge(r: usize, pub: usize, msg: usize, len: u32): void {
  sha512Init();
  sha512Update(r, 32);
  sha512Update(pub, 32);
  sha512Update(msg, len);
  sha512Final(CHALLENGE);
  scReduce(CHALLENGE, CHALLENGE);
}

/** RFC 8032 §5.1.5: the 32-byte public key of a 32-byte seed (private key), written at pubOut. */
export function ed25519PublicKey(seed: usize, pubOut: usize): void {
  expandSeed(seed);
  scalarMulBase(EXPANDED); // step 3: A = [s]B
  encode(pubOut, H);       // step 4
  memory.fill(EXPANDED, 0, 64);
}

/** out = the 32-byte encoding of [s]B for a 32-byte little-endian s < 2^255 (bit 255 clear),
 *  constant-time in s: the fixed-base multiplication under key generation and signing, exported
 *  so tests can drive it with edge scalars (0, L, 2^255 - 1, every digit at ±8). */
export function ed25519ScalarMulBase(s: usize, out: usize): void {
  scalarMulBase(s);
  encode(out, H);
}

/** RFC 8032 §5.1.6: the 64-byte signature of `len` bytes at msg, written at sigOut. `pub` must be
 *  the public key of `seed` (passed in so it is not recomputed). sigOut may overlap msg. */
export function ed25519Sign(seed: usize, pub: usize, msg: usize, len: u32, sigOut: usize): void {
  // Step 1: s and prefix from the seed.
  expandSeed(seed);
  // Step 2: r = SHA-512(prefix ‖ M) mod L.
  sha512Init();
  sha512Update(EXPANDED + 32, 32);
  sha512Update(msg, len);
  sha512Final(NONCE);
  scReduce(NONCE, NONCE);
  // Step 3: R = [r]B, encoded.
  scalarMulBase(NONCE);
  encode(ENCODED, H);
  // Step 4: k = SHA-512(R ‖ A ‖ M) mod L.
  challenge(ENCODED, pub, msg, len);
  // Step 5: S = (r + k·s) mod L.
  scMulAdd(sigOut + 32, NONCE, CHALLENGE, EXPANDED);
  // Step 6: R ‖ S.
  memory.copy(sigOut, ENCODED, 32);
  memory.fill(EXPANDED, 0, 64);
  memory.fill(NONCE, 0, 64);
}

/** RFC 8032 §5.1.7: true iff sig (64 bytes) is a valid signature of `len` bytes at msg under the
 *  32-byte public key pub. Never traps; any 96 bytes of input are safe. */
export function ed25519Verify(pub: usize, msg: usize, len: u32, sig: usize): bool {
  // Step 1: S must be < L, A must decode. R is not decoded here: step 3 compares the canonical
  // encoding of [S]B - [k]A with R's bytes, which fails for any R that does not decode.
  if (!scIsCanonical(sig + 32)) return false;
  if (!decodeNegated(pub)) return false;
  // Step 2: k = SHA-512(R ‖ A ‖ M) mod L.
  challenge(sig, pub, msg, len);
  // Step 3: [S]B = R + [k]A (the cofactorless check, which §5.1.7 allows), as [S]B + [k](-A) = R.
  doubleScalarMulVartime(CHALLENGE, sig + 32);
  encode(ENCODED, H);
  return load<u64>(ENCODED, 0) == load<u64>(sig, 0) && load<u64>(ENCODED, 8) == load<u64>(sig, 8)
    && load<u64>(ENCODED, 16) == load<u64>(sig, 16) && load<u64>(ENCODED, 24) == load<u64>(sig, 24);
}
