// Arithmetic modulo the group order L = 2^252 + 27742317777372353535851937790883648493 (RFC 8032
// §5.1): the scalar layer under ed25519.ts. Scalars are 32-byte little-endian strings.
//
// The reduction is TweetNaCl's modL: 64 signed i64 digits of radix 2^8, folded from the top with
// fixed trip counts, so it is constant-time (no branch or index depends on the value).
// State: 512 bytes (WIDE).
//
//   scReduce(k, digest64);        // k = digest mod L (in place allowed)
//   scMulAdd(s, r, k, a);         // s = (r + k·a) mod L

/** L, little-endian. */
const L_BYTES: usize = memory.data<u8>([
  0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
]);

const WIDE: usize = memory.data(64 * 8, 8); // 64 i64 digits of a 512-bit (or wider-digit) value

@inline function digit(i: i32): usize { return WIDE + (<usize>i << 3); }
@inline function lByte(i: i32): i64 { return <i64>load<u8>(L_BYTES + <usize>i); }

/** out (32 bytes) = WIDE mod L. Digits 63..32 are folded down using 2^256 ≡ -16·(L - 2^252)
 *  (mod L) per digit; then the bits above 2^252 are folded once more, the digits carried, and
 *  one conditional-free correction leaves the canonical residue. WIDE is left zeroed. */
function modL(out: usize): void {
  for (let i: i32 = 63; i >= 32; i--) {
    const top = load<i64>(digit(i));
    let carry: i64 = 0;
    let j = i - 32;
    for (; j < i - 12; j++) {
      const v = load<i64>(digit(j)) + carry - 16 * top * lByte(j - (i - 32));
      carry = (v + 128) >> 8; // rounded, keeps every digit in [-128, 128)
      store<i64>(digit(j), v - (carry << 8));
    }
    store<i64>(digit(j), load<i64>(digit(j)) + carry);
    store<i64>(digit(i), 0);
  }
  const high = load<i64>(digit(31)) >> 4; // multiples of 2^252 still present
  let carry: i64 = 0;
  for (let j: i32 = 0; j < 32; j++) {
    const v = load<i64>(digit(j)) + carry - high * lByte(j);
    carry = v >> 8;
    store<i64>(digit(j), v & 255);
  }
  for (let j: i32 = 0; j < 32; j++) store<i64>(digit(j), load<i64>(digit(j)) - carry * lByte(j));
  for (let i: i32 = 0; i < 32; i++) {
    const v = load<i64>(digit(i));
    store<i64>(digit(i + 1), load<i64>(digit(i + 1)) + (v >> 8));
    store<u8>(out + <usize>i, <u8>v);
  }
  memory.fill(WIDE, 0, 64 * 8); // it held secret-derived digits
}

/** out (32 bytes) = the 64-byte little-endian integer at x, mod L. out may alias x. */
export function scReduce(out: usize, x: usize): void {
  for (let i: i32 = 0; i < 64; i++) store<i64>(digit(i), <i64>load<u8>(x + <usize>i));
  modL(out);
}

/** out = (r + k·a) mod L for 32-byte r, k, a (RFC 8032 §5.1.6 step 5). out may alias any input. */
export function scMulAdd(out: usize, r: usize, k: usize, a: usize): void {
  memory.fill(WIDE, 0, 64 * 8);
  for (let i: i32 = 0; i < 32; i++) store<i64>(digit(i), <i64>load<u8>(r + <usize>i));
  for (let i: i32 = 0; i < 32; i++) {
    const ki = <i64>load<u8>(k + <usize>i);
    for (let j: i32 = 0; j < 32; j++) {
      store<i64>(digit(i + j), load<i64>(digit(i + j)) + ki * <i64>load<u8>(a + <usize>j));
    }
  }
  modL(out);
}

/** True if the 32-byte s is < L (RFC 8032 §5.1.7 step 1). Variable-time: s is public. */
export function scIsCanonical(s: usize): bool {
  for (let i: i32 = 31; i >= 0; i--) {
    const x = load<u8>(s + <usize>i), l = load<u8>(L_BYTES + <usize>i);
    if (x != l) return x < l;
  }
  return false; // s == L
}
