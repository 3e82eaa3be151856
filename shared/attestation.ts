// Gateway co-signature over a batch of readings.
//
// A gateway attests, for every reading it accepted, "I received these exact bytes at this time".
// Signing each reading would cost one Ed25519 signature per reading; instead the gateway signs one
// Merkle root per batch, so its signing cost is amortised over the batch and each reading still
// gets a standalone proof (its leaf, the audit path, the signed root).
//
//   leaf_i   = leafHash(cbor([readingDigest_i, receivedAtMs_i]))     readingDigest = SHA-256(COSE_Sign1)
//   root     = merkleRoot(leaf_0 .. leaf_{n-1})                       (shared/merkle.ts)
//   signed   = cbor(["moteledger/batch", 1, gatewayId, count, root])  gatewayId: 16 bytes
//   signature = Ed25519(gateway key, signed)
import type { KeyObject } from "node:crypto";
import { decode, encode, numberHead, type CborValue } from "./cbor.ts";
import { signEd25519, verifyEd25519 } from "./ed25519.ts";
import { MoteError } from "./errors.ts";
import { inclusionProof, leafHash, merkleRoot, verifyInclusion } from "./merkle.ts";

export const attestationVersion = 1;
export const attestationDomain = "moteledger/batch";
export const batchReadingsMax = 4096;

export class AttestationError extends MoteError {}

export interface AttestedReading {
  digest: Uint8Array; // SHA-256 of the COSE_Sign1 bytes
  receivedAtMs: number; // gateway's wall clock, Unix ms
}

export interface BatchAttestation {
  version: number;
  gatewayId: Uint8Array;
  count: number;
  root: Uint8Array;
  signature: Uint8Array;
}

export function attestedLeaf(r: AttestedReading): Uint8Array {
  const ms = r.receivedAtMs;
  if (r.digest.length !== 32 || !Number.isSafeInteger(ms) || ms < 0) return leafHash(encode([r.digest, ms]));
  // cbor([bstr .size 32, uint]) written in place, as encode() writes it (shortest head): every
  // validator hashes one leaf per reading of every batch it admits.
  const b = leafScratch;
  b[0] = 0x82;
  b[1] = 0x58;
  b[2] = 32;
  b.set(r.digest, 3);
  const n = numberHead(b, 35, 0, ms);
  return leafHash(b.subarray(0, n));
}

const leafScratch = new Uint8Array(44);

function signedBytes(gatewayId: Uint8Array, count: number, root: Uint8Array): Uint8Array {
  return encode([attestationDomain, attestationVersion, gatewayId, count, root]);
}

/** Co-signs a batch: one signature whatever the batch size. */
export function attestBatch(key: KeyObject, gatewayId: Uint8Array, readings: AttestedReading[]): BatchAttestation {
  if (readings.length === 0 || readings.length > batchReadingsMax) throw new AttestationError("BATCH_SIZE", `a batch holds 1 to ${batchReadingsMax} readings, got ${readings.length}`);
  const root = merkleRoot(readings.map(attestedLeaf));
  return { version: attestationVersion, gatewayId, count: readings.length, root, signature: signEd25519(key, signedBytes(gatewayId, readings.length, root)) };
}

/** Checks the gateway's signature and that `readings` are exactly the batch it signed. */
export function verifyBatch(att: BatchAttestation, gatewayKey: KeyObject, readings: AttestedReading[]): boolean {
  if (att.version !== attestationVersion || readings.length !== att.count) return false;
  const root = merkleRoot(readings.map(attestedLeaf));
  if (Buffer.compare(root, att.root) !== 0) return false;
  return verifyEd25519(gatewayKey, signedBytes(att.gatewayId, att.count, att.root), att.signature);
}

/** A single reading's proof of co-signature: its leaf's audit path to the signed root. */
export function readingProof(readings: AttestedReading[], index: number): Uint8Array[] {
  return inclusionProof(readings.map(attestedLeaf), index);
}

export function verifyReadingProof(att: BatchAttestation, gatewayKey: KeyObject, reading: AttestedReading, index: number, path: Uint8Array[]): boolean {
  return verifyInclusion(attestedLeaf(reading), index, att.count, path, att.root) && verifyEd25519(gatewayKey, signedBytes(att.gatewayId, att.count, att.root), att.signature);
}

export function encodeAttestation(att: BatchAttestation): Uint8Array {
  return encode([att.version, att.gatewayId, att.count, att.root, att.signature]);
}

export function decodeAttestation(bytes: Uint8Array): BatchAttestation {
  const v: CborValue = decode(bytes, { depthMax: 2, itemsMax: 8, bytesMax: 64 });
  if (!Array.isArray(v) || v.length !== 5) throw new AttestationError("ATTESTATION_SHAPE", "attestation must be an array of 5");
  const [version, gatewayId, count, root, signature] = v;
  if (version !== attestationVersion) throw new AttestationError("ATTESTATION_VERSION", `unknown attestation version ${String(version)}`);
  if (!(gatewayId instanceof Uint8Array) || gatewayId.length !== 16) throw new AttestationError("ATTESTATION_SHAPE", "gateway id must be 16 bytes");
  if (typeof count !== "number" || count < 1 || count > batchReadingsMax) throw new AttestationError("ATTESTATION_SHAPE", "bad count");
  if (!(root instanceof Uint8Array) || root.length !== 32) throw new AttestationError("ATTESTATION_SHAPE", "root must be 32 bytes");
  if (!(signature instanceof Uint8Array) || signature.length !== 64) throw new AttestationError("ATTESTATION_SHAPE", "signature must be 64 bytes");
  return { version, gatewayId, count, root, signature };
}
