// The device's short kid (shared/short-kid.ts): the number the chain gave it at enrollment, which
// it signs with as COSE kid instead of its 16-byte device id (13 bytes less per reading).
//
// Slot 2: the kid's bytes, 1-4, minimal big-endian; empty or absent = none. Learned from the
// Short-Kid option (65000) of a gateway's 2.01 to a reading signed under the long kid; forgotten
// when a gateway refuses a short-kid reading as unknown kid (4.04) or bad signature (4.01), so a
// wrong kid (a spoofed answer, a damaged slot) costs one re-signed reading, never the device.
// No check bytes: a damaged kid is caught by the gateway the same way.
import { hostStorageRead, hostStorageWrite } from "./host";
import { deviceId, DEVICE_ID_BYTES } from "./identity";

const SLOT_SHORT_KID: i32 = 2;
const SHORT_KID_BYTES_MAX: u32 = 4;
const kid = memory.data(8);
let kidLen: u32 = 0;

/** Minimal big-endian 1-4 bytes (no leading zero unless it is h'00'): what gateways accept. */
function valid(ptr: usize, len: i32): bool {
  return len >= 1 && <u32>len <= SHORT_KID_BYTES_MAX && !(len > 1 && load<u8>(ptr) == 0);
}

export function shortKidLoad(): void {
  const n = hostStorageRead(SLOT_SHORT_KID, kid, 8);
  kidLen = valid(kid, n) ? <u32>n : 0;
}

/** The kid to sign with: the short kid, or the device id while there is none. */
export function kidPtr(): usize {
  return kidLen != 0 ? kid : deviceId;
}

export function kidLength(): u32 {
  return kidLen != 0 ? kidLen : DEVICE_ID_BYTES;
}

/** A gateway's Short-Kid option: kept (and persisted) only if none is known and it is well-formed. */
export function shortKidLearn(ptr: usize, len: i32): void {
  if (kidLen != 0 || !valid(ptr, len)) return;
  memory.copy(kid, ptr, <u32>len);
  // Only a persisted kid is used: a failed write leaves the device on its long kid.
  if (hostStorageWrite(SLOT_SHORT_KID, kid, len) == 0) kidLen = <u32>len;
}

export function shortKidForget(): void {
  kidLen = 0;
  hostStorageWrite(SLOT_SHORT_KID, kid, 0);
}
