// The signed reading: a COSE_Sign1 (RFC 9052 §4.2) over a SenML pack, as the firmware emits it.
//
//   18([ bstr({1: -8, 6: h'<seq>'}),   protected: alg EdDSA, Partial IV = sequence number
//        {4: h'<device id, 16 bytes>'}, unprotected: kid
//        bstr(SenML pack),
//        bstr(signature, 64 bytes) ])
//
// The sequence number rides in the protected header as a Partial IV (label 6) the way OSCORE
// carries its sender sequence number (RFC 8613 §6.1): big-endian, leading zeros removed, 1-5 bytes.
// Being signed, it gives replay protection: a gateway accepts each (device, seq) once.
import { decode, encode, Tagged, type CborValue } from "./cbor.ts";
import { cose, deviceIdBytes, sequenceMax } from "./constants.ts";
import { ReadingError } from "./errors.ts";
import { senmlFromCbor, senmlToCbor, type SenmlRecord } from "./senml.ts";
import { sha256, signEd25519, verifyEd25519 } from "./ed25519.ts";
import type { KeyObject } from "node:crypto";

export const readingBytesMax = 1024;

export interface SignedReading {
  deviceId: Uint8Array;
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

/** Sig_structure for COSE_Sign1 (RFC 9052 §4.4) with empty external AAD. */
export function sigStructure(protectedBytes: Uint8Array, payloadBytes: Uint8Array): Uint8Array {
  return encode(["Signature1", protectedBytes, new Uint8Array(0), payloadBytes]);
}

function fail(code: string, message: string): never {
  throw new ReadingError(code, message);
}

/** Decodes a signed reading without checking its signature. Throws ReadingError on any deviation. */
export function decodeReading(bytes: Uint8Array): SignedReading {
  if (bytes.length > readingBytesMax) fail("READING_TOO_LARGE", `reading is ${bytes.length} bytes, limit ${readingBytesMax}`);
  let top: CborValue;
  try {
    top = decode(bytes, { depthMax: 6, itemsMax: 32, bytesMax: readingBytesMax });
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
    prot = decode(protectedBytes, { depthMax: 2, itemsMax: 4, bytesMax: 16 });
  } catch (e) {
    return fail("COSE_PROTECTED", `protected header: ${(e as Error).message}`);
  }
  if (!(prot instanceof Map) || prot.size !== 2 || prot.get(cose.headerAlg) !== cose.algEdDSA) {
    fail("COSE_PROTECTED", "protected header must be exactly {1: -8, 6: Partial IV}");
  }
  const sequence = sequenceFromPartialIv(prot.get(cose.headerPartialIv));
  if (!(unprotected instanceof Map) || unprotected.size !== 1) fail("COSE_UNPROTECTED", "unprotected header must be exactly {4: kid}");
  const kid = unprotected.get(cose.headerKid);
  if (!(kid instanceof Uint8Array) || kid.length !== deviceIdBytes) fail("COSE_KID", `kid must be the ${deviceIdBytes}-byte device id`);
  let pack: CborValue;
  try {
    pack = decode(payloadBytes, { depthMax: 3, itemsMax: 16, bytesMax: 64 });
  } catch (e) {
    return fail("SENML_CBOR", `payload: ${(e as Error).message}`);
  }
  const records = senmlFromCbor(pack);
  return { deviceId: kid, sequence, records, protectedBytes, payloadBytes, signature, bytes };
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
