// SHA-512 (FIPS 180-4 §6.4), streaming, over one static context.
//
// Single static context: sha512Init / sha512Update / sha512Final work on module state, so two
// hash computations must not interleave (the firmware is single-threaded; ed25519Sign/Verify use
// this context internally, so a caller must not keep a hash open across a call to them).
// Memory: 64 (H) + 128 (block buffer) + 128 (rolling schedule W) = 320 bytes of state, plus the
// 640-byte K table and 64-byte H0, which SHA-256 shares (see sha256.ts).
//
//   sha512(msg, len, out);                        // one shot
//   sha512Init(); sha512Update(a, n); sha512Update(b, m); sha512Final(out);  // = sha512(a‖b)

/** K (§4.2.3): first 64 bits of the fractional parts of the cube roots of the first 80 primes.
 *  The top 32 bits of the first 64 entries are exactly SHA-256's K (§4.2.2). */
export const SHA2_K: usize = memory.data<u64>([
  0x428a2f98d728ae22, 0x7137449123ef65cd, 0xb5c0fbcfec4d3b2f, 0xe9b5dba58189dbbc,
  0x3956c25bf348b538, 0x59f111f1b605d019, 0x923f82a4af194f9b, 0xab1c5ed5da6d8118,
  0xd807aa98a3030242, 0x12835b0145706fbe, 0x243185be4ee4b28c, 0x550c7dc3d5ffb4e2,
  0x72be5d74f27b896f, 0x80deb1fe3b1696b1, 0x9bdc06a725c71235, 0xc19bf174cf692694,
  0xe49b69c19ef14ad2, 0xefbe4786384f25e3, 0x0fc19dc68b8cd5b5, 0x240ca1cc77ac9c65,
  0x2de92c6f592b0275, 0x4a7484aa6ea6e483, 0x5cb0a9dcbd41fbd4, 0x76f988da831153b5,
  0x983e5152ee66dfab, 0xa831c66d2db43210, 0xb00327c898fb213f, 0xbf597fc7beef0ee4,
  0xc6e00bf33da88fc2, 0xd5a79147930aa725, 0x06ca6351e003826f, 0x142929670a0e6e70,
  0x27b70a8546d22ffc, 0x2e1b21385c26c926, 0x4d2c6dfc5ac42aed, 0x53380d139d95b3df,
  0x650a73548baf63de, 0x766a0abb3c77b2a8, 0x81c2c92e47edaee6, 0x92722c851482353b,
  0xa2bfe8a14cf10364, 0xa81a664bbc423001, 0xc24b8b70d0f89791, 0xc76c51a30654be30,
  0xd192e819d6ef5218, 0xd69906245565a910, 0xf40e35855771202a, 0x106aa07032bbd1b8,
  0x19a4c116b8d2d0c8, 0x1e376c085141ab53, 0x2748774cdf8eeb99, 0x34b0bcb5e19b48a8,
  0x391c0cb3c5c95a63, 0x4ed8aa4ae3418acb, 0x5b9cca4f7763e373, 0x682e6ff3d6b2b8a3,
  0x748f82ee5defb2fc, 0x78a5636f43172f60, 0x84c87814a1f0ab72, 0x8cc702081a6439ec,
  0x90befffa23631e28, 0xa4506cebde82bde9, 0xbef9a3f7b2c67915, 0xc67178f2e372532b,
  0xca273eceea26619c, 0xd186b8c721c0c207, 0xeada7dd6cde0eb1e, 0xf57d4f7fee6ed178,
  0x06f067aa72176fba, 0x0a637dc5a2c898a6, 0x113f9804bef90dae, 0x1b710b35131c471b,
  0x28db77f523047d84, 0x32caab7b40c72493, 0x3c9ebe0a15c9bebc, 0x431d67c49c100d4c,
  0x4cc5d4becb3e42b6, 0x597f299cfc657e2a, 0x5fcb6fab3ad6faec, 0x6c44198c4a475817,
], 8);

/** H(0) (§5.3.5): first 64 bits of the fractional parts of the square roots of the first 8
 *  primes. Their top 32 bits are SHA-256's H(0) (§5.3.3). */
export const SHA2_H0: usize = memory.data<u64>([
  0x6a09e667f3bcc908, 0xbb67ae8584caa73b, 0x3c6ef372fe94f82b, 0xa54ff53a5f1d36f1,
  0x510e527fade682d1, 0x9b05688c2b3e6c1f, 0x1f83d9abfb41bd6b, 0x5be0cd19137e2179,
], 8);

const BLOCK_BYTES: u32 = 128;
const CONTEXT_BYTES: i32 = 320;
const CONTEXT: usize = memory.data(CONTEXT_BYTES, 8);
const STATE: usize = CONTEXT;       // H0..H7, native (little-endian) u64
const BLOCK: usize = CONTEXT + 64;  // partial input block
const W: usize = CONTEXT + 192;     // message schedule, 16 words used as a ring (§6.4.2 step 1)

let blockFill: u32 = 0;   // bytes waiting in BLOCK, always < 128 between calls
let totalBytes: u64 = 0;  // message length so far (the bit length is < 2^67, fits 128 bits)

// §4.1.3 functions (Ch, Maj and the four sigmas are inlined in compress).
@inline function bigSigma0(x: u64): u64 { return rotr<u64>(x, 28) ^ rotr<u64>(x, 34) ^ rotr<u64>(x, 39); }
@inline function bigSigma1(x: u64): u64 { return rotr<u64>(x, 14) ^ rotr<u64>(x, 18) ^ rotr<u64>(x, 41); }
@inline function smallSigma0(x: u64): u64 { return rotr<u64>(x, 1) ^ rotr<u64>(x, 8) ^ (x >> 7); }
@inline function smallSigma1(x: u64): u64 { return rotr<u64>(x, 19) ^ rotr<u64>(x, 61) ^ (x >> 6); }

/** §6.4.2: one 1024-bit block at `block` (any alignment) into STATE. */
function compress(block: usize): void {
  let a = load<u64>(STATE, 0), b = load<u64>(STATE, 8), c = load<u64>(STATE, 16), d = load<u64>(STATE, 24);
  let e = load<u64>(STATE, 32), f = load<u64>(STATE, 40), g = load<u64>(STATE, 48), h = load<u64>(STATE, 56);
  for (let t: usize = 0; t < 80; t++) {
    const slot = W + ((t & 15) << 3);
    let wt: u64;
    if (t < 16) {
      wt = bswap<u64>(load<u64>(block + (t << 3))); // words are big-endian (§3.1)
    } else {
      wt = smallSigma1(load<u64>(W + (((t - 2) & 15) << 3))) + load<u64>(W + (((t - 7) & 15) << 3))
        + smallSigma0(load<u64>(W + (((t - 15) & 15) << 3))) + load<u64>(slot);
    }
    store<u64>(slot, wt);
    const t1 = h + bigSigma1(e) + ((e & f) ^ (~e & g)) + load<u64>(SHA2_K + (t << 3)) + wt;
    const t2 = bigSigma0(a) + ((a & b) ^ (a & c) ^ (b & c));
    h = g; g = f; f = e; e = d + t1;
    d = c; c = b; b = a; a = t1 + t2;
  }
  store<u64>(STATE, load<u64>(STATE, 0) + a, 0); store<u64>(STATE, load<u64>(STATE, 8) + b, 8);
  store<u64>(STATE, load<u64>(STATE, 16) + c, 16); store<u64>(STATE, load<u64>(STATE, 24) + d, 24);
  store<u64>(STATE, load<u64>(STATE, 32) + e, 32); store<u64>(STATE, load<u64>(STATE, 40) + f, 40);
  store<u64>(STATE, load<u64>(STATE, 48) + g, 48); store<u64>(STATE, load<u64>(STATE, 56) + h, 56);
}

/** Starts a new hash (§5.3.5), discarding any unfinished one. */
export function sha512Init(): void {
  memory.copy(STATE, SHA2_H0, 64);
  blockFill = 0;
  totalBytes = 0;
}

/** Absorbs `len` bytes at `msg`. */
export function sha512Update(msg: usize, len: u32): void {
  totalBytes += <u64>len;
  let done: u32 = 0;
  if (blockFill > 0) {
    const take = min<u32>(BLOCK_BYTES - blockFill, len);
    memory.copy(BLOCK + blockFill, msg, take);
    blockFill += take;
    done = take;
    if (blockFill < BLOCK_BYTES) return;
    compress(BLOCK);
    blockFill = 0;
  }
  while (len - done >= BLOCK_BYTES) {
    compress(msg + done);
    done += BLOCK_BYTES;
  }
  blockFill = len - done;
  memory.copy(BLOCK, msg + done, blockFill);
}

/** Pads (§5.1.2), finishes and writes the 64-byte digest at `out`. The context is then spent. */
export function sha512Final(out: usize): void {
  store<u8>(BLOCK + blockFill, 0x80);
  memory.fill(BLOCK + blockFill + 1, 0, BLOCK_BYTES - blockFill - 1);
  if (blockFill >= BLOCK_BYTES - 16) { // no room for the 128-bit length: one more block
    compress(BLOCK);
    memory.fill(BLOCK, 0, BLOCK_BYTES);
  }
  store<u64>(BLOCK, bswap<u64>(totalBytes >> 61), 112); // bit length, big-endian, high word
  store<u64>(BLOCK, bswap<u64>(totalBytes << 3), 120);  // low word
  compress(BLOCK);
  for (let i: usize = 0; i < 8; i++) store<u64>(out + (i << 3), bswap<u64>(load<u64>(STATE + (i << 3))));
  memory.fill(CONTEXT, 0, CONTEXT_BYTES); // it may have held a seed or a secret scalar
  blockFill = 0;
  totalBytes = 0;
}

/** One-shot SHA-512 of `len` bytes at `msg` into 64 bytes at `out` (uses the static context). */
export function sha512(msg: usize, len: u32, out: usize): void {
  sha512Init();
  sha512Update(msg, len);
  sha512Final(out);
}
