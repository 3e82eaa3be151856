// Bounds shared by every codec: a (ptr, len) pair handed in by a caller must lie inside the
// firmware's static data, or a load/store could trap. Checking it once at each entry point lets
// the loops below use plain load/store without a per-byte test.
//
// The bound is __heap_base, not memory.size(): every buffer the firmware owns is static and lies
// below it, and a module that never reads or grows its memory size lets WAMR shrink linear memory
// to __heap_base (device/ABI.md), where anything above would be out of bounds anyway.

/** True when [ptr, ptr + len) lies inside static data (computed in 64 bits: no wrap-around). */
@inline export function inMemory(ptr: usize, len: u32): bool {
  return <u64>ptr + <u64>len <= <u64>__heap_base;
}
