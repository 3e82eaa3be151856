// Writes the firmware's persistent slots (device/identity.ts, device/short-kid.ts) for a known
// identity, so a test can boot the real firmware.wasm as a given device at a given sequence number
// (test vectors: Ed25519 is deterministic, so the bytes it signs are known in advance).
import { createHash } from "node:crypto";
import type { SlotStore } from "../../hardware/emulator/slot-store.ts";

const check = (bytes: Uint8Array): Buffer => createHash("sha256").update(bytes).digest().subarray(0, 4);

/** Slot 0 "MLI1" | seed | check, slot 1 "MLS1" | mark (u64 LE) | check, slot 2 the short kid (if any). */
export function writeDeviceSlots(slots: SlotStore, seed: Uint8Array, sequenceMark: number, shortKid?: Uint8Array): void {
  const identity = Buffer.concat([Buffer.from("MLI1"), seed]);
  slots.write(0, Buffer.concat([identity, check(identity)]));
  const mark = Buffer.alloc(8);
  mark.writeBigUInt64LE(BigInt(sequenceMark));
  const sequence = Buffer.concat([Buffer.from("MLS1"), mark]);
  slots.write(1, Buffer.concat([sequence, check(sequence)]));
  if (shortKid) slots.write(2, shortKid);
}
