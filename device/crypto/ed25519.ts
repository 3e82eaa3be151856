// Ed25519 (RFC 8032 §5.1): key generation, signing and verification, pure functions over
// caller-supplied byte ranges. The curve is edwards25519, -x^2 + y^2 = 1 + d·x^2·y^2 over
// GF(2^255 - 19) (field25519.ts), of prime order L (scalar25519.ts), hashed with SHA-512.
//
// Static memory (no allocation anywhere), in bytes:
//   ed25519.ts      1,312 state (3 points 768, 5 field temporaries 320, 4 scalars/encodings 224)
//                     160 constants (d, 2d, sqrt(-1), base point x and y)
//   field25519.ts     352 state
//   scalar25519.ts    512 state + 32 constant (L)
//   sha512.ts         320 state + 704 constants (K, H0; shared with SHA-256)
//   sha256.ts         160 state
//   total           3,552 (2,656 state + 896 constants), checked by test/device/crypto.test.ts.
// Speed in Node 20 on the 2-core dev machine, after warm-up: about 600 signatures/s and 580
// verifications/s (node:crypto: ~28,000 and ~9,400).
//
// Side channels: public-key derivation and signing run in constant time with respect to the seed,
// the secret scalar and the nonce (Montgomery-style ladder over all 256 bits with masked swaps,
// complete addition formulas, constant-time field and mod-L arithmetic). Verification handles
// only public data and is variable-time.
//
// Not reentrant: all temporaries are static, and signing/verification use sha512.ts's single
// context (a caller must not hold a sha512Init..Final open across these calls).
//
//   ed25519PublicKey(seed, pub);                 // 32 -> 32 bytes
//   ed25519Sign(seed, pub, msg, len, sig);       // 64-byte signature
//   ed25519Verify(pub, msg, len, sig);           // true iff valid
import {
  FE_BYTES, feAdd, feSub, feMul, feSqr, feOne, feZero, feCswap, feFromBytes, feToBytes,
  feInvert, fePow2523, feIsNegative, feEqual, feIsZero,
} from "./field25519";
import { sha512, sha512Init, sha512Update, sha512Final } from "./sha512";
import { scReduce, scMulAdd, scIsCanonical } from "./scalar25519";

// ---- Constants (32-byte little-endian encodings; loaded with feFromBytes where needed) ----

/** d = -121665/121666 mod p (RFC 8032 §5.1). */
const D_BYTES: usize = memory.data<u64>([0x75eb4dca135978a3, 0x00700a4d4141d8ab, 0x8cc740797779e898, 0x52036cee2b6ffe73]);
/** 2d mod p, the k of the addition formula (§5.1.4). */
const D2_BYTES: usize = memory.data<u64>([0xebd69b9426b2f159, 0x00e0149a8283b156, 0x198e80f2eef3d130, 0x2406d9dc56dffce7]);
/** sqrt(-1) = 2^((p-1)/4) mod p (§5.1.3 step 3). */
const SQRT_M1_BYTES: usize = memory.data<u64>([0xc4ee1b274a0ea0b0, 0x2f431806ad2fe478, 0x2b4d00993dfbd7a7, 0x2b8324804fc1df0b]);
/** Base point B (§5.1): y = 4/5 mod p, x the even root of (y^2 - 1)/(d·y^2 + 1). */
const BASE_X_BYTES: usize = memory.data<u64>([0xc9562d608f25d51a, 0x692cc7609525a7b2, 0xc0a4e231fdd6dc5c, 0x216936d3cd6e53fe]);
const BASE_Y_BYTES: usize = memory.data<u64>([0x6666666666666658, 0x6666666666666666, 0x6666666666666666, 0x6666666666666666]);

// ---- Static state ----

/** A point in extended homogeneous coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, x·y = T/Z (§5.1.4). */
const POINT_BYTES: usize = 4 * FE_BYTES;
@inline function X(p: usize): usize { return p; }
@inline function Y(p: usize): usize { return p + FE_BYTES; }
@inline function Z(p: usize): usize { return p + 2 * FE_BYTES; }
@inline function T(p: usize): usize { return p + 3 * FE_BYTES; }

const P: usize = memory.data(<i32>POINT_BYTES, 8);  // result of a scalar multiplication
const Q: usize = memory.data(<i32>POINT_BYTES, 8);  // ladder partner / the base point
const A: usize = memory.data(<i32>POINT_BYTES, 8);  // verify: -A, the negated public key
// Field temporaries. pointAdd, decodeNegated and encode each use them and never call each other.
const F0: usize = memory.data(<i32>FE_BYTES, 8);
const F1: usize = memory.data(<i32>FE_BYTES, 8);
const F2: usize = memory.data(<i32>FE_BYTES, 8);
const F3: usize = memory.data(<i32>FE_BYTES, 8);
const F4: usize = memory.data(<i32>FE_BYTES, 8);
const EXPANDED: usize = memory.data(64, 8); // SHA-512(seed): secret scalar s ‖ prefix (§5.1.5)
const NONCE: usize = memory.data(64, 8);    // sign: r, a 64-byte digest reduced in place to 32
const CHALLENGE: usize = memory.data(64, 8); // k = SHA-512(R ‖ A ‖ M), reduced in place to 32
const ENCODED: usize = memory.data(32, 8);  // R being built (sign) / [S]B - [k]A encoded (verify)

// ---- Group law ----

/** p = p + q. The unified addition for a = -1 with k = 2d (§5.1.4), complete on edwards25519,
 *  so it also doubles (p == q allowed) and needs no special cases: constant-time. */
function pointAdd(p: usize, q: usize): void {
  const a = F0, b = F1, c = F2, d = F3, t = F4;
  feSub(a, Y(p), X(p)); feSub(t, Y(q), X(q)); feMul(a, a, t);   // A = (Y1-X1)·(Y2-X2)
  feAdd(b, Y(p), X(p)); feAdd(t, Y(q), X(q)); feMul(b, b, t);   // B = (Y1+X1)·(Y2+X2)
  feMul(c, T(p), T(q)); feFromBytes(t, D2_BYTES); feMul(c, c, t); // C = T1·2d·T2
  feMul(d, Z(p), Z(q)); feAdd(d, d, d);                         // D = Z1·2·Z2
  feSub(t, b, a); // E = B - A
  feAdd(b, b, a); // H = B + A
  feSub(a, d, c); // F = D - C
  feAdd(d, d, c); // G = D + C
  feMul(X(p), t, a); // X3 = E·F
  feMul(Y(p), b, d); // Y3 = G·H
  feMul(Z(p), a, d); // Z3 = F·G
  feMul(T(p), t, b); // T3 = E·H
}

function pointIdentity(p: usize): void { feZero(X(p)); feOne(Y(p)); feOne(Z(p)); feZero(T(p)); }

function pointBase(p: usize): void {
  feFromBytes(X(p), BASE_X_BYTES); feFromBytes(Y(p), BASE_Y_BYTES); feOne(Z(p)); feMul(T(p), X(p), Y(p));
}

function pointCswap(p: usize, q: usize, bit: i32): void {
  for (let i: usize = 0; i < POINT_BYTES; i += FE_BYTES) feCswap(p + i, q + i, bit);
}

/** P = [s]B for a secret 32-byte scalar s: a ladder over all 256 bits, swapping (P, Q) by mask
 *  so neither the branches nor the memory addresses depend on s. Invariant: Q - P = B. */
function scalarMulBase(s: usize): void {
  pointIdentity(P);
  pointBase(Q);
  for (let i: i32 = 255; i >= 0; i--) {
    const bit = (<i32>load<u8>(s + <usize>(i >> 3)) >> (i & 7)) & 1;
    pointCswap(P, Q, bit);
    pointAdd(Q, P);
    pointAdd(P, P);
    pointCswap(P, Q, bit);
  }
}

/** P = [s]B + [k]A (A holds the point), both scalars < 2^253, public: Straus/Shamir
 *  double-and-add over the joint bits, variable-time. */
function doubleScalarMulVartime(s: usize, k: usize): void {
  pointIdentity(P);
  pointBase(Q);
  for (let i: i32 = 252; i >= 0; i--) {
    pointAdd(P, P);
    if ((load<u8>(s + <usize>(i >> 3)) >> (i & 7)) & 1) pointAdd(P, Q);
    if ((load<u8>(k + <usize>(i >> 3)) >> (i & 7)) & 1) pointAdd(P, A);
  }
}

// ---- Encoding (§5.1.2) and decoding (§5.1.3) ----

/** out = the 32-byte encoding of point p: y with the low bit of x in bit 255. */
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
  feSqr(u, Y(A));
  feFromBytes(c, D_BYTES);
  feMul(v, u, c);
  feSub(u, u, Z(A));
  feAdd(v, v, Z(A));
  // Step 3: candidate root x = u·v^3·(u·v^7)^((p-5)/8).
  feSqr(x2, v);          // v^2
  feMul(t, x2, v);       // v^3
  feSqr(x2, x2);         // v^4
  feMul(x2, x2, t);      // v^7
  feMul(x2, x2, u);      // u·v^7
  fePow2523(x2, x2);
  feMul(x2, x2, t);
  feMul(X(A), x2, u);
  // If v·x^2 = -u, multiply x by sqrt(-1); if neither ±u, there is no square root: invalid.
  feSqr(c, X(A));
  feMul(c, c, v);
  if (!feEqual(c, u)) {
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
    feZero(c);
    feSub(X(A), c, X(A));
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
  encode(pubOut, P);       // step 4
  memory.fill(EXPANDED, 0, 64);
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
  encode(ENCODED, P);
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
  doubleScalarMulVartime(sig + 32, CHALLENGE);
  encode(ENCODED, P);
  return load<u64>(ENCODED, 0) == load<u64>(sig, 0) && load<u64>(ENCODED, 8) == load<u64>(sig, 8)
    && load<u64>(ENCODED, 16) == load<u64>(sig, 16) && load<u64>(ENCODED, 24) == load<u64>(sig, 24);
}
