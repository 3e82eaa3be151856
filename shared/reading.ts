// The signed reading: a COSE_Sign1 (RFC 9052 §4.2) over a SenML pack, in one of two formats that
// every gateway accepts (a fleet migrates device by device).
//
// Format 1 (firmware before issue 14, 123 bytes of UDP payload for one float16 value):
//   18([ bstr({1: -8, 6: h'<seq>'}),   protected: alg EdDSA, Partial IV = sequence number
//        {4: h'<device id, 16 bytes>'}, unprotected: kid
//        bstr(SenML [{0: "temp", 1: "Cel", 2: v}]),
//        bstr(signature, 64 bytes) ])
//
// Format 2, "compact" (94 bytes for the same reading with a 2-byte kid and sequence < 65,536):
//   18([ bstr({4: h'<kid>', 6: h'<seq>'}), protected: kid and Partial IV, both signed
//        {},                               unprotected: empty
//        bstr(SenML [{0: "0", 2: v}]),      catalog index as name, no unit (shared/sensor-catalog.ts)
//        bstr(signature, 64 bytes) ])
//   kid is the device's short kid (1-4 bytes, assigned on chain at enrollment, shared/short-kid.ts)
//   or, until the device has learned it, its 16-byte device id. alg is absent: RFC 9052 Appendix A.1
//   lets an application fix the algorithm by context instead of carrying it, and here the context is
//   the enrolled key itself, an Ed25519 key that is only ever used with EdDSA (RFC 9053 §2.2), so no
//   other algorithm can be substituted (the downgrade Appendix A guards against has nowhere to go).
//   The kid is in the protected bucket (§3: either bucket is allowed) so the short number is signed.
//
// Byte accounting of format 2, temp 21.5 as float16, 2-byte kid, sequence 256..65,535:
//   CoAP header 4, no token, no options (POST to the root resource "/") → 4 + 1 (payload marker)
//   d2 84 (tag 18, array 4)                                                        2
//   protected bstr: 4a | a2 04 42 <kid 2> 06 42 <seq 2>                              10
//   unprotected a0                                                                   1
//   payload bstr: 49 | 81 a2 00 61 30 02 f9 4d60                                     10
//   signature 58 40 <64>                                                             66   = 94
// (1-byte kid or sequence < 256: 1 byte less each; float32 +2, float64 +6; see bench/device.ts.)
//
// The sequence number rides in the protected header as a Partial IV (label 6) the way OSCORE
// carries its sender sequence number (RFC 8613 §6.1): big-endian, leading zeros removed, 1-5 bytes.
// Being signed, it gives replay protection: a gateway accepts each (device, seq) once.
import { decodeViews, encode, numberHead, numberHeadBytes, Tagged, type CborValue } from "./cbor.ts";
import { cose, deviceIdBytes, sequenceMax } from "./constants.ts";
import { ReadingError } from "./errors.ts";
import { senmlFromCbor, senmlToCbor, type SenmlRecord } from "./senml.ts";
import { compactRecord, expandCompactRecord } from "./sensor-catalog.ts";
import { isDeviceIdKid, isShortKid } from "./short-kid.ts";
import { sha256, signEd25519, verifyEd25519 } from "./ed25519.ts";
import type { KeyObject } from "node:crypto";

export const readingBytesMax = 1024;

/** The device id a short kid stands for (chain state), or undefined when no device has it. */
export type KidResolver = (shortKid: Uint8Array) => Uint8Array | undefined;

export interface SignedReading {
  deviceId: Uint8Array;
  /** 1: full headers (alg, 16-byte kid, units); 2: compact (see the header of this file). */
  format: 1 | 2;
  /** The kid as sent: the device id, or a short kid that `resolveKid` turned into `deviceId`. */
  kid: Uint8Array;
  sequence: number;
  records: SenmlRecord[];
  protectedBytes: Uint8Array;
  payloadBytes: Uint8Array;
  signature: Uint8Array;
  /** The exact COSE_Sign1 bytes, as received. */
  bytes: Uint8Array;
}

/** Partial IV bytes for a sequence number (RFC 8613 §6.1). */
export function partialIv(sequence: number): Uint8Array {
  if (!Number.isSafeInteger(sequence) || sequence < 0 || sequence > sequenceMax) throw new RangeError(`sequence ${sequence} out of range`);
  const out: number[] = [];
  for (let s = sequence; s > 0; s = Math.floor(s / 256)) out.unshift(s % 256);
  return Uint8Array.from(out.length ? out : [0]);
}

function sequenceFromPartialIv(piv: CborValue): number {
  if (!(piv instanceof Uint8Array) || piv.length < 1 || piv.length > 5) throw new ReadingError("COSE_SEQUENCE", "Partial IV must be 1 to 5 bytes");
  if (piv.length > 1 && piv[0] === 0) throw new ReadingError("COSE_SEQUENCE", "Partial IV has a leading zero byte");
  return piv.reduce((acc, b) => acc * 256 + b, 0);
}

/** `["Signature1", ` of the Sig_structure: an array of 4, then the context as a 10-byte text string. */
const sigStructurePrefix = Uint8Array.of(0x84, 0x6a, ...new TextEncoder().encode("Signature1"));

/**
 * Sig_structure for COSE_Sign1 (RFC 9052 §4.4) with empty external AAD:
 * `["Signature1", protected, h'', payload]` in deterministic CBOR, written straight into one buffer of
 * its exact size. Every validator builds one per reading it verifies, and the generic encoder's pass
 * over a four-item array was 1–2% of a gateway's main thread in bench:net; test/shared/reading.test.ts
 * checks the bytes against `encode` of the array at every head width.
 */
export function sigStructure(protectedBytes: Uint8Array, payloadBytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(sigStructurePrefix.length + numberHeadBytes(protectedBytes.length) + protectedBytes.length + 1 + numberHeadBytes(payloadBytes.length) + payloadBytes.length);
  out.set(sigStructurePrefix);
  let i = numberHead(out, sigStructurePrefix.length, 0x40, protectedBytes.length);
  out.set(protectedBytes, i);
  i += protectedBytes.length;
  out[i++] = 0x40; // external_aad: the empty byte string
  i = numberHead(out, i, 0x40, payloadBytes.length);
  out.set(payloadBytes, i);
  return out;
}

function fail(code: string, message: string): never {
  throw new ReadingError(code, message);
}

/**
 * Decodes a signed reading of either format without checking its signature. A short kid is turned
 * into its device id by `resolveKid` (the chain's kid entries); without one, or if it answers
 * undefined, the reading is refused with COSE_KID_UNKNOWN. Throws ReadingError on any deviation.
 * Its byte fields (signature, payload, kid, ...) are views of `bytes`, which must not be written
 * after: copies were a malloc'd store or two per reading, and node:crypto moved a 64-byte signature
 * copied onto V8's heap into a store of its own again at each verification.
 */
export function decodeReading(bytes: Uint8Array, resolveKid?: KidResolver): SignedReading {
  if (bytes.length > readingBytesMax) fail("READING_TOO_LARGE", `reading is ${bytes.length} bytes, limit ${readingBytesMax}`);
  let top: CborValue;
  try {
    top = decodeViews(bytes, { depthMax: 6, itemsMax: 32, bytesMax: readingBytesMax });
  } catch (e) {
    return fail("READING_CBOR", `not deterministic CBOR: ${(e as Error).message}`);
  }
  if (!(top instanceof Tagged) || top.tag !== cose.tagSign1) fail("COSE_TAG", "expected a COSE_Sign1 (CBOR tag 18)");
  const parts = top.value;
  if (!Array.isArray(parts) || parts.length !== 4) fail("COSE_SHAPE", "COSE_Sign1 must be an array of 4");
  const [protectedBytes, unprotected, payloadBytes, signature] = parts;
  if (!(protectedBytes instanceof Uint8Array) || !(payloadBytes instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    fail("COSE_SHAPE", "protected header, payload and signature must be byte strings");
  }
  if (signature.length !== 64) fail("COSE_SIGNATURE", "EdDSA signature must be 64 bytes");
  let prot: CborValue;
  try {
    prot = decodeViews(protectedBytes, { depthMax: 2, itemsMax: 4, bytesMax: 32 });
  } catch (e) {
    return fail("COSE_PROTECTED", `protected header: ${(e as Error).message}`);
  }
  if (!(prot instanceof Map) || prot.size !== 2) fail("COSE_PROTECTED", "protected header must be {1: -8, 6: Partial IV} or {4: kid, 6: Partial IV}");
  const sequence = sequenceFromPartialIv(prot.get(cose.headerPartialIv));
  const format = prot.has(cose.headerAlg) ? 1 : 2;
  let kid: CborValue;
  if (format === 1) {
    if (prot.get(cose.headerAlg) !== cose.algEdDSA) fail("COSE_PROTECTED", "protected header must be exactly {1: -8, 6: Partial IV}");
    if (!(unprotected instanceof Map) || unprotected.size !== 1) fail("COSE_UNPROTECTED", "unprotected header must be exactly {4: kid}");
    kid = unprotected.get(cose.headerKid);
    if (!(kid instanceof Uint8Array) || !isDeviceIdKid(kid)) fail("COSE_KID", `kid must be the ${deviceIdBytes}-byte device id`);
  } else {
    if (!(unprotected instanceof Map) || unprotected.size !== 0) fail("COSE_UNPROTECTED", "a compact reading's unprotected header must be empty");
    kid = prot.get(cose.headerKid);
    if (!(kid instanceof Uint8Array) || !(isDeviceIdKid(kid) || isShortKid(kid))) fail("COSE_KID", `kid must be a ${deviceIdBytes}-byte device id or a minimal 1-4 byte short kid`);
  }
  const deviceId = isDeviceIdKid(kid) ? kid : resolveKid?.(kid);
  if (!deviceId) fail("COSE_KID_UNKNOWN", `short kid ${Buffer.from(kid).toString("hex")} names no enrolled device`);
  let pack: CborValue;
  try {
    pack = decodeViews(payloadBytes, { depthMax: 3, itemsMax: 16, bytesMax: 64 });
  } catch (e) {
    return fail("SENML_CBOR", `payload: ${(e as Error).message}`);
  }
  const decoded = senmlFromCbor(pack);
  const records = format === 1 ? decoded : decoded.map(expandCompactRecord);
  return { deviceId, format, kid, sequence, records, protectedBytes, payloadBytes, signature, bytes };
}

/**
 * A resolver for a verifier that holds one device's proven record: the record carries the short kid
 * the chain gave the device (gateway/chain/records.ts), so the binding kid → device is proven with it.
 */
export function provenKidResolver(deviceId: Uint8Array, shortKid: Uint8Array | undefined): KidResolver {
  return (kid) => (shortKid !== undefined && Buffer.compare(kid, shortKid) === 0 ? deviceId : undefined);
}

/** The kid of a reading without resolving it (for a gateway deciding how to answer); undefined if it does not decode. */
export function readingKid(bytes: Uint8Array): Uint8Array | undefined {
  try {
    return decodeReading(bytes, (k) => k).kid;
  } catch {
    return undefined;
  }
}

/** True if the reading's signature verifies under the device's key. */
export function verifyReading(reading: SignedReading, key: KeyObject): boolean {
  return verifyEd25519(key, sigStructure(reading.protectedBytes, reading.payloadBytes), reading.signature);
}

/** SHA-256 of the exact COSE_Sign1 bytes: what gateways co-sign and the chain indexes. */
export function readingDigest(bytes: Uint8Array): Uint8Array {
  return sha256(bytes);
}

/** Encodes and signs a reading exactly as the firmware does (for tests, tools and simulations). */
export function encodeReading(key: KeyObject, deviceId: Uint8Array, sequence: number, records: SenmlRecord[]): Uint8Array {
  const protectedBytes = encode(new Map<CborValue, CborValue>([[cose.headerAlg, cose.algEdDSA], [cose.headerPartialIv, partialIv(sequence)]]));
  const payloadBytes = encode(senmlToCbor(records));
  const signature = signEd25519(key, sigStructure(protectedBytes, payloadBytes));
  return encode(new Tagged(cose.tagSign1, [protectedBytes, new Map([[cose.headerKid, deviceId]]), payloadBytes, signature]));
}

/**
 * Encodes and signs a compact (format 2) reading as the firmware does: kid = the short kid, or the
 * 16-byte device id while the device has none; catalog records lose name and unit to their index.
 */
export function encodeCompactReading(key: KeyObject, kid: Uint8Array, sequence: number, records: SenmlRecord[]): Uint8Array {
  if (!isDeviceIdKid(kid) && !isShortKid(kid)) throw new RangeError("kid must be a 16-byte device id or a minimal 1-4 byte short kid");
  const protectedBytes = encode(new Map<CborValue, CborValue>([[cose.headerKid, kid], [cose.headerPartialIv, partialIv(sequence)]]));
  const payloadBytes = encode(senmlToCbor(records.map(compactRecord)));
  const signature = signEd25519(key, sigStructure(protectedBytes, payloadBytes));
  return encode(new Tagged(cose.tagSign1, [protectedBytes, new Map(), payloadBytes, signature]));
}
