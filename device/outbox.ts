// Signed readings waiting for delivery: a ring of OUTBOX_MAX static slots. A reading leaves the
// ring only when the gateway answered it (2.xx accepted, or a 4.xx that resending cannot fix).
export const OUTBOX_MAX: u32 = 8;
export const MESSAGE_BYTES_MAX: u32 = 192; // one COSE_Sign1 reading (89-115 bytes, more with firmware records)

const slots = memory.data(<i32>(OUTBOX_MAX * MESSAGE_BYTES_MAX));
const lengths = memory.data(<i32>(OUTBOX_MAX * 4));
let head: u32 = 0;
let size: u32 = 0;

export function outboxSize(): u32 {
  return size;
}

export function outboxFull(): bool {
  return size == OUTBOX_MAX;
}

/** Slot the next reading is written into; commit it with outboxPush(len). */
export function outboxTail(): usize {
  return slots + ((head + size) % OUTBOX_MAX) * MESSAGE_BYTES_MAX;
}

export function outboxPush(len: u32): void {
  store<u32>(lengths + ((head + size) % OUTBOX_MAX) * 4, len);
  size++;
}

export function outboxHead(): usize {
  return slots + head * MESSAGE_BYTES_MAX;
}

export function outboxHeadLength(): u32 {
  return load<u32>(lengths + head * 4);
}

/** The head was re-signed in place (device/exchange.ts): its new length. */
export function outboxSetHeadLength(len: u32): void {
  store<u32>(lengths + head * 4, len);
}

export function outboxPop(): void {
  if (size == 0) return;
  head = (head + 1) % OUTBOX_MAX;
  size--;
}

export function outboxClear(): void {
  head = 0;
  size = 0;
}
