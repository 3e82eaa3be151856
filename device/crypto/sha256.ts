// SHA-256 (FIPS 180-4 §6.2), one shot.
//
// Memory: 32 (H) + 64 (rolling schedule W) + 64 (final block) = 160 bytes of state. The constants
// are not stored twice: SHA-256's K and H(0) are the top 32 bits of SHA-512's (§4.2.2 and §4.2.3
// both take the fractional parts of the same cube roots, §5.3.3 and §5.3.5 the same square roots).
//
//   sha256(msg, len, out); // out: 32 bytes
import { SHA2_K, SHA2_H0 } from "./sha512";

const BLOCK_BYTES: u32 = 64;
const CONTEXT_BYTES: i32 = 160;
const CONTEXT: usize = memory.data(CONTEXT_BYTES, 8);
const STATE: usize = CONTEXT;      // H0..H7, native u32
const W: usize = CONTEXT + 32;     // message schedule, 16 words used as a ring
const TAIL: usize = CONTEXT + 96;  // the padded last block(s), built one at a time

@inline function bigSigma0(x: u32): u32 { return rotr<u32>(x, 2) ^ rotr<u32>(x, 13) ^ rotr<u32>(x, 22); }
@inline function bigSigma1(x: u32): u32 { return rotr<u32>(x, 6) ^ rotr<u32>(x, 11) ^ rotr<u32>(x, 25); }
@inline function smallSigma0(x: u32): u32 { return rotr<u32>(x, 7) ^ rotr<u32>(x, 18) ^ (x >> 3); }
@inline function smallSigma1(x: u32): u32 { return rotr<u32>(x, 17) ^ rotr<u32>(x, 19) ^ (x >> 10); }

/** §6.2.2: one 512-bit block at `block` (any alignment) into STATE. */
function compress(block: usize): void {
  let a = load<u32>(STATE, 0), b = load<u32>(STATE, 4), c = load<u32>(STATE, 8), d = load<u32>(STATE, 12);
  let e = load<u32>(STATE, 16), f = load<u32>(STATE, 20), g = load<u32>(STATE, 24), h = load<u32>(STATE, 28);
  for (let t: usize = 0; t < 64; t++) {
    const slot = W + ((t & 15) << 2);
    let wt: u32;
    if (t < 16) {
      wt = bswap<u32>(load<u32>(block + (t << 2))); // big-endian words (§3.1)
    } else {
      wt = smallSigma1(load<u32>(W + (((t - 2) & 15) << 2))) + load<u32>(W + (((t - 7) & 15) << 2))
        + smallSigma0(load<u32>(W + (((t - 15) & 15) << 2))) + load<u32>(slot);
    }
    store<u32>(slot, wt);
    const kt = <u32>(load<u64>(SHA2_K + (t << 3)) >> 32);
    const t1 = h + bigSigma1(e) + ((e & f) ^ (~e & g)) + kt + wt;
    const t2 = bigSigma0(a) + ((a & b) ^ (a & c) ^ (b & c));
    h = g; g = f; f = e; e = d + t1;
    d = c; c = b; b = a; a = t1 + t2;
  }
  store<u32>(STATE, load<u32>(STATE, 0) + a, 0); store<u32>(STATE, load<u32>(STATE, 4) + b, 4);
  store<u32>(STATE, load<u32>(STATE, 8) + c, 8); store<u32>(STATE, load<u32>(STATE, 12) + d, 12);
  store<u32>(STATE, load<u32>(STATE, 16) + e, 16); store<u32>(STATE, load<u32>(STATE, 20) + f, 20);
  store<u32>(STATE, load<u32>(STATE, 24) + g, 24); store<u32>(STATE, load<u32>(STATE, 28) + h, 28);
}

/** SHA-256 of `len` bytes at `msg` into 32 bytes at `out`. */
export function sha256(msg: usize, len: u32, out: usize): void {
  for (let i: usize = 0; i < 8; i++) {
    store<u32>(STATE + (i << 2), <u32>(load<u64>(SHA2_H0 + (i << 3)) >> 32)); // §5.3.3
  }
  let done: u32 = 0;
  while (len - done >= BLOCK_BYTES) {
    compress(msg + done);
    done += BLOCK_BYTES;
  }
  // §5.1.1 padding: the rest, 0x80, zeros, then the 64-bit big-endian bit length.
  const rest = len - done;
  memory.copy(TAIL, msg + done, rest);
  store<u8>(TAIL + rest, 0x80);
  memory.fill(TAIL + rest + 1, 0, BLOCK_BYTES - rest - 1);
  if (rest >= BLOCK_BYTES - 8) { // no room for the length: one more block
    compress(TAIL);
    memory.fill(TAIL, 0, BLOCK_BYTES);
  }
  store<u64>(TAIL, bswap<u64>(<u64>len << 3), 56);
  compress(TAIL);
  for (let i: usize = 0; i < 8; i++) store<u32>(out + (i << 2), bswap<u32>(load<u32>(STATE + (i << 2))));
  memory.fill(CONTEXT, 0, CONTEXT_BYTES);
}
