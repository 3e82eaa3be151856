// Short key identifiers (issue 14): the chain gives each device enrolled after this change a number,
// in order of enrollment (gateway/chain/apply-devices.ts), and the device signs with that number as
// its COSE kid (RFC 9052 §3.1, label 4) instead of its 16-byte device id. Encoded like a Partial IV
// (RFC 8613 §6.1): big-endian, no leading zero bytes, 0 as h'00', 1 to 4 bytes. A kid of 16 bytes is
// a device id itself, so the two never collide; any other length is malformed.
import { deviceIdBytes } from "./constants.ts";

export const shortKidBytesMax = 4;
/** 2^32 numbers: more devices than one chain will enroll. */
export const shortKidNumberMax = 2 ** 32 - 1;

export function shortKidBytes(n: number): Uint8Array {
  if (!Number.isSafeInteger(n) || n < 0 || n > shortKidNumberMax) throw new RangeError(`short kid number ${n} out of range`);
  const out: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) out.unshift(v % 256);
  return Uint8Array.from(out.length ? out : [0]);
}

/** True for a kid in the short form: 1-4 bytes, minimal (no leading zero unless it is h'00'). */
export function isShortKid(kid: Uint8Array): boolean {
  return kid.length >= 1 && kid.length <= shortKidBytesMax && !(kid.length > 1 && kid[0] === 0);
}

/** True for a kid that is a whole device id. */
export const isDeviceIdKid = (kid: Uint8Array): boolean => kid.length === deviceIdBytes;
