// The fixed-base table for [s]B (ed25519.ts scalarMulBase): 4 rows × 8 points, 2,048 bytes.
// Row j, entry k is (k+1)·2^(64j)·B, B the base point of RFC 8032 §5.1, as its affine x and y,
// each the canonical 32-byte little-endian encoding (4 u64 words), so an entry is 64 bytes.
//
// Why this shape: signed radix-16 digits of the scalar (64 of them, in [-8, 8]) need the
// multiples 1..8 of each digit's position; storing every 16th position (2^0, 2^64, 2^128, 2^192)
// costs 4 × 8 × 64 = 2 KiB and 60 doublings, where ref10's every-2nd-position table costs
// 24 KiB and 4 doublings. Affine (x, y) rather than ref10's (y+x, y-x, 2d·x·y) saves a third of
// the table for two multiplications per lookup.
//
// Why it is computed, not stored: a WebAssembly module's data is copied into linear memory (RAM)
// anyway, so shipping the table costs 2 KiB of the 16 KiB image and saves no RAM. ed25519.ts
// fills it from B on first use: 192 doublings, 32 additions and 32 inversions, about 11,000
// field operations once per boot, some 9 signatures' worth (estimated from the 1,280 field
// operations of one [s]B), paid by the first signature or public key after boot. test/device/crypto-field.test.ts
// compares the computed table with the multiples of B word for word.

/** B = (x, y) (RFC 8032 §5.1), canonical little-endian: x in words 0..3, y in words 4..7. */
export const BASE_POINT: usize = memory.data<u64>([
  0xc9562d608f25d51a, 0x692cc7609525a7b2, 0xc0a4e231fdd6dc5c, 0x216936d3cd6e53fe,
  0x6666666666666658, 0x6666666666666666, 0x6666666666666666, 0x6666666666666666,
]);

/** 256 u64 words, zero until ed25519.ts fills it: entry (j, k) is x at word 8·(8j + k), y at the 4 words after it. */
export const BASE_TABLE: usize = memory.data(2048, 8);
