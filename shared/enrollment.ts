// Device enrollment: the owner of a device vouches for its public key with an Ed25519 signature.
// A gateway (and later the chain) knows a device only through such a record; the device id is
// derived from the key (deviceIdFromPublicKey), so an enrollment cannot bind a key to another id.
//
//   signed    = cbor(["moteledger/enroll", 1, devicePublicKey, ownerPublicKey, metadata])
//   signature = Ed25519(owner key, signed)
//   wire      = cbor([1, devicePublicKey, ownerPublicKey, metadata, signature])    POST /e, content-format 60
//
// metadata is a map of text keys to text or integer values (site, model, …), at most
// `enrollmentMetadataMax` entries, each string at most `enrollmentTextBytesMax` bytes. All CBOR is
// core deterministic (RFC 8949 §4.2.1), so the signed bytes are the same wherever they are rebuilt.
import type { KeyObject } from "node:crypto";
import { decode, encode, type CborValue } from "./cbor.ts";
import { deviceIdFromPublicKey, signEd25519, verifyEd25519 } from "./ed25519.ts";
import { MoteError } from "./errors.ts";

export const enrollmentVersion = 1;
export const enrollmentDomain = "moteledger/enroll";
export const enrollmentMetadataMax = 8;
export const enrollmentTextBytesMax = 64;
export const enrollmentBytesMax = 1024;

export class EnrollmentError extends MoteError {}

export type EnrollmentMetadata = Map<string, string | number>;

export interface Enrollment {
  version: number;
  devicePublicKey: Uint8Array;
  ownerPublicKey: Uint8Array;
  metadata: EnrollmentMetadata;
  signature: Uint8Array;
}

function signedBytes(devicePublicKey: Uint8Array, ownerPublicKey: Uint8Array, metadata: EnrollmentMetadata): Uint8Array {
  return encode([enrollmentDomain, enrollmentVersion, devicePublicKey, ownerPublicKey, metadata as Map<CborValue, CborValue>]);
}

function checkMetadata(metadata: CborValue): EnrollmentMetadata {
  if (!(metadata instanceof Map)) throw new EnrollmentError("ENROLLMENT_SHAPE", "metadata must be a map");
  if (metadata.size > enrollmentMetadataMax) throw new EnrollmentError("ENROLLMENT_METADATA", `metadata holds at most ${enrollmentMetadataMax} entries`);
  const out: EnrollmentMetadata = new Map();
  for (const [k, v] of metadata) {
    if (typeof k !== "string" || Buffer.byteLength(k) > enrollmentTextBytesMax) throw new EnrollmentError("ENROLLMENT_METADATA", "metadata keys are text of at most 64 bytes");
    const okText = typeof v === "string" && Buffer.byteLength(v) <= enrollmentTextBytesMax;
    if (!okText && !(typeof v === "number" && Number.isSafeInteger(v))) throw new EnrollmentError("ENROLLMENT_METADATA", `metadata "${k}" must be text (≤ 64 bytes) or an integer`);
    out.set(k, v as string | number);
  }
  return out;
}

/** Builds and signs an enrollment with the owner's private key; returns its wire bytes. */
export function encodeEnrollment(ownerKey: KeyObject, ownerPublicKey: Uint8Array, devicePublicKey: Uint8Array, metadata: EnrollmentMetadata = new Map()): Uint8Array {
  if (devicePublicKey.length !== 32 || ownerPublicKey.length !== 32) throw new EnrollmentError("ENROLLMENT_KEY", "device and owner keys are 32-byte Ed25519 public keys");
  const meta = checkMetadata(metadata as Map<CborValue, CborValue>);
  const signature = signEd25519(ownerKey, signedBytes(devicePublicKey, ownerPublicKey, meta));
  return encode([enrollmentVersion, devicePublicKey, ownerPublicKey, meta as Map<CborValue, CborValue>, signature]);
}

/** Decodes an enrollment without checking its signature. Throws EnrollmentError on any deviation. */
export function decodeEnrollment(bytes: Uint8Array): Enrollment {
  if (bytes.length > enrollmentBytesMax) throw new EnrollmentError("ENROLLMENT_TOO_LARGE", `enrollment is ${bytes.length} bytes, limit ${enrollmentBytesMax}`);
  let v: CborValue;
  try {
    v = decode(bytes, { depthMax: 3, itemsMax: enrollmentMetadataMax, bytesMax: 64 });
  } catch (e) {
    throw new EnrollmentError("ENROLLMENT_CBOR", `not deterministic CBOR: ${(e as Error).message}`);
  }
  if (!Array.isArray(v) || v.length !== 5) throw new EnrollmentError("ENROLLMENT_SHAPE", "enrollment must be an array of 5");
  const [version, devicePublicKey, ownerPublicKey, metadata, signature] = v;
  if (version !== enrollmentVersion) throw new EnrollmentError("ENROLLMENT_VERSION", `unknown enrollment version ${String(version)}`);
  if (!(devicePublicKey instanceof Uint8Array) || devicePublicKey.length !== 32) throw new EnrollmentError("ENROLLMENT_KEY", "device public key must be 32 bytes");
  if (!(ownerPublicKey instanceof Uint8Array) || ownerPublicKey.length !== 32) throw new EnrollmentError("ENROLLMENT_KEY", "owner public key must be 32 bytes");
  if (!(signature instanceof Uint8Array) || signature.length !== 64) throw new EnrollmentError("ENROLLMENT_SIGNATURE", "signature must be 64 bytes");
  return { version, devicePublicKey, ownerPublicKey, metadata: checkMetadata(metadata), signature };
}

/** True if the owner's signature verifies. `ownerKey` is the parsed `ownerPublicKey`. */
export function verifyEnrollment(e: Enrollment, ownerKey: KeyObject): boolean {
  return verifyEd25519(ownerKey, signedBytes(e.devicePublicKey, e.ownerPublicKey, e.metadata), e.signature);
}

export function enrollmentDeviceId(e: Enrollment): Uint8Array {
  return deviceIdFromPublicKey(e.devicePublicKey);
}
