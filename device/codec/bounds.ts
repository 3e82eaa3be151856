// Bounds shared by every codec: a (ptr, len) pair handed in by a caller must lie inside linear memory
// (one page, device/ABI.md), or a load/store would trap. Checking it once at each entry point lets the
// loops behind it use plain load/store without a per-byte test.

/** True when [ptr, ptr + len) lies inside linear memory (computed in 64 bits: no wrap-around). */
@inline export function inMemory(ptr: usize, len: u32): bool {
  return <u64>ptr + <u64>len <= (<u64>memory.size() << 16);
}
