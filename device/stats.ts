// Counters the host reads with `stat(index)` (device/ABI.md, "Counters"). Static, 8 bytes each.
export const READINGS_SIGNED: i32 = 0;
export const MESSAGES_SENT: i32 = 1;
export const RETRANSMISSIONS: i32 = 2;
export const READINGS_ACKED: i32 = 3;
export const READINGS_REJECTED: i32 = 4;
export const EXCHANGES_GAVE_UP: i32 = 5;
export const RX_MALFORMED: i32 = 6;
export const RX_DUPLICATES: i32 = 7;
export const OUTBOX_DROPPED: i32 = 8;
export const SEQUENCE_NEXT: i32 = 9; // not stored here: read from the identity module
export const COUNTERS: i32 = 10;

const counters = memory.data(COUNTERS * 8);

export function count(index: i32): void {
  const p = counters + (<usize>index << 3);
  store<i64>(p, load<i64>(p) + 1);
}

export function counter(index: i32): i64 {
  return load<i64>(counters + (<usize>index << 3));
}

export function resetCounters(): void {
  memory.fill(counters, 0, COUNTERS * 8);
}
