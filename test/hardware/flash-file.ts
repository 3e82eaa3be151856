// Reads the mps2-an385 board's flash file (hardware/abi/flash-slots.c's layout) so tests can see
// and damage slot records: per slot two 80-byte records, magic | generation | slot | length |
// reserved | data[64] | crc32.
import { crc32 } from "node:zlib";

export const FLASH_RECORD_BYTES = 80;
const MAGIC = 0x544c534d;

export interface SlotRecord {
  copy: number;
  generation: number;
  data: Buffer;
}

function record(flash: Buffer, slot: number, copy: number): SlotRecord | undefined {
  const off = (slot * 2 + copy) * FLASH_RECORD_BYTES;
  if (flash.length < off + FLASH_RECORD_BYTES) return undefined;
  const r = flash.subarray(off, off + FLASH_RECORD_BYTES);
  const ok = r.readUInt32LE(0) === MAGIC && r[8] === slot && r[9] <= 64 && r.readUInt32LE(76) === crc32(r.subarray(0, 76));
  return ok ? { copy, generation: r.readUInt32LE(4), data: Buffer.from(r.subarray(12, 12 + r[9])) } : undefined;
}

/** The record a read returns (`current`) and the copy the next write will overwrite (`spare`). */
export function slotRecords(flash: Buffer, slot: number): { current: SlotRecord | undefined; spare: number } {
  const [a, b] = [record(flash, slot, 0), record(flash, slot, 1)];
  const current = a && b ? (b.generation > a.generation ? b : a) : (a ?? b);
  return { current, spare: current?.copy === 0 ? slot * 2 + 1 : slot * 2 };
}
