// The firmware manifest (docs/firmware-update.md): a COSE_Sign1 (RFC 9052 §4.2, tag 18) made by the
// firmware's publisher with Ed25519 over a CBOR manifest modelled on SUIT (RFC 9124's information model).
//
//   18([ bstr({1: -8, 4: kid}), {}, bstr(manifest), bstr(signature, 64 bytes) ])
//   kid      = SHA-256(publisher public key)[0..8]
//   manifest = {1: 1, 2: version, 3: vendor id, 4: class id, 5: image size, 6: [-16, sha256], 7: abi, ?8: text}
//
// Pure codec: no I/O. Everything is deterministic CBOR (RFC 8949 §4.2.1) through shared/cbor.ts, whose
// strict decoder refuses any other encoding, so a manifest has exactly one byte form and its image id
// (SHA-256 of those bytes) names it everywhere.
//
//   const bytes = signManifest(seed, { version: 2, imageBytes: wasm.length, imageDigest: sha256(wasm), abiVersion: 2 });
//   const m = decodeManifest(bytes);        // FirmwareError "MANIFEST" on any deviation
//   verifyManifest(m, [publisherKey]);      // FirmwareError "SIGNATURE"
//   verifyImage(m.manifest, wasm);          // FirmwareError "DIGEST"
import { decode, encode, Tagged, type CborValue } from "./cbor.ts";
import { cose, firmwareClassId, firmwareVendorId } from "./constants.ts";
import { bytesEqual } from "./byte-strings.ts";
import { FirmwareError } from "./errors.ts";
import { privateKeyObject, publicKeyFromSeed, publicKeyObject, sha256, signEd25519, toHex, verifyEd25519 } from "./ed25519.ts";
import { sigStructure } from "./reading.ts";

/** Manifest format version (key 1). */
export const manifestFormatVersion = 1;
/** Firmware versions are SUIT sequence numbers: 1 .. 2^32-1. */
export const firmwareVersionMax = 2 ** 32 - 1;
/** One image fills at most one slot: 64 KiB. */
export const imageBytesMax = 65_536;
export const versionTextBytesMax = 32;
export const abiVersionMax = 0xffff;
/** The largest manifest (with a 32-byte version text) is 223 bytes; 256 leaves room and fits one CoAP payload. */
export const manifestBytesMax = 256;
export const manifestKidBytes = 8;
export const imageIdBytes = 8;
/** COSE algorithm id of SHA-256 (RFC 9054 §2.1). */
export const coseAlgSha256 = -16;

const key = { format: 1, version: 2, vendorId: 3, classId: 4, imageBytes: 5, imageDigest: 6, abiVersion: 7, versionText: 8 } as const;

/** The boot loader's failure reasons (docs/firmware-update.md), as carried by the "fw.why" SenML record. */
export const firmwareFailureReasons = {
  1: "SIGNATURE",
  2: "DIGEST",
  3: "VERSION",
  4: "ABI",
  5: "MANIFEST",
  6: "TRAP",
  7: "UNCONFIRMED",
  8: "RESET",
} as const;
export type FirmwareFailureReason = (typeof firmwareFailureReasons)[keyof typeof firmwareFailureReasons];

/** Name of a "fw.why" code, or "UNKNOWN(<code>)" for a code this build does not know. */
export function firmwareFailureName(code: number): string {
  return (firmwareFailureReasons as Record<number, string>)[code] ?? `UNKNOWN(${code})`;
}

export interface FirmwareManifest {
  /** Monotonic firmware version (SUIT sequence number). */
  version: number;
  vendorId: Uint8Array;
  classId: Uint8Array;
  imageBytes: number;
  /** SHA-256 of the image. */
  imageDigest: Uint8Array;
  /** The device ABI version the image needs. */
  abiVersion: number;
  versionText?: string;
}

export interface SignedManifest {
  manifest: FirmwareManifest;
  /** SHA-256(publisher public key)[0..8]. */
  kid: Uint8Array;
  protectedBytes: Uint8Array;
  payloadBytes: Uint8Array;
  signature: Uint8Array;
  /** The exact COSE_Sign1 bytes. */
  bytes: Uint8Array;
  /** Image id: SHA-256(bytes)[0..8] as 16 lower-case hex digits. */
  imageId: string;
}

/** What a publisher states; vendor and class default to this product's ids. */
export type ManifestFields = Omit<FirmwareManifest, "vendorId" | "classId"> & Partial<Pick<FirmwareManifest, "vendorId" | "classId">>;

function fail(message: string): never {
  throw new FirmwareError("MANIFEST", `${message}; make the manifest with \`mote firmware sign\``);
}

/** kid of a publisher key: SHA-256(public key)[0..8]. */
export function publisherKid(publicKey: Uint8Array): Uint8Array {
  return sha256(publicKey).subarray(0, manifestKidBytes);
}

/** Image id of a manifest's COSE_Sign1 bytes: SHA-256[0..8], 16 lower-case hex digits. */
export function manifestImageId(bytes: Uint8Array): string {
  return toHex(sha256(bytes).subarray(0, imageIdBytes));
}

export function isImageId(s: string): boolean {
  return /^[0-9a-f]{16}$/.test(s);
}

function checkFields(m: FirmwareManifest): void {
  const uint = (v: number, min: number, max: number) => Number.isSafeInteger(v) && v >= min && v <= max;
  if (!uint(m.version, 1, firmwareVersionMax)) fail(`version ${m.version} is not in 1..${firmwareVersionMax}`);
  if (!(m.vendorId instanceof Uint8Array) || m.vendorId.length !== 16) fail("vendor id must be 16 bytes");
  if (!(m.classId instanceof Uint8Array) || m.classId.length !== 16) fail("class id must be 16 bytes");
  if (!uint(m.imageBytes, 1, imageBytesMax)) fail(`image size ${m.imageBytes} is not in 1..${imageBytesMax}`);
  if (!(m.imageDigest instanceof Uint8Array) || m.imageDigest.length !== 32) fail("image digest must be a 32-byte SHA-256");
  if (!uint(m.abiVersion, 1, abiVersionMax)) fail(`ABI version ${m.abiVersion} is not in 1..${abiVersionMax}`);
  if (m.versionText !== undefined) {
    if (typeof m.versionText !== "string") fail("version text must be a text string");
    const n = new TextEncoder().encode(m.versionText).length;
    if (n > versionTextBytesMax) fail(`version text is ${n} bytes, at most ${versionTextBytesMax}`);
  }
}

/** The manifest map's deterministic CBOR (the COSE payload). */
export function encodeManifestPayload(m: FirmwareManifest): Uint8Array {
  checkFields(m);
  const map = new Map<CborValue, CborValue>([
    [key.format, manifestFormatVersion],
    [key.version, m.version],
    [key.vendorId, m.vendorId],
    [key.classId, m.classId],
    [key.imageBytes, m.imageBytes],
    [key.imageDigest, [coseAlgSha256, m.imageDigest]],
    [key.abiVersion, m.abiVersion],
  ]);
  if (m.versionText !== undefined) map.set(key.versionText, m.versionText);
  return encode(map);
}

/** Signs a manifest with the publisher's 32-byte Ed25519 seed (RFC 9052 §4.4). */
export function signManifest(publisherSeed: Uint8Array, fields: ManifestFields): Uint8Array {
  const manifest: FirmwareManifest = { vendorId: firmwareVendorId, classId: firmwareClassId, ...fields };
  const payloadBytes = encodeManifestPayload(manifest);
  const kid = publisherKid(publicKeyFromSeed(publisherSeed));
  const protectedBytes = encode(new Map<CborValue, CborValue>([[cose.headerAlg, cose.algEdDSA], [cose.headerKid, kid]]));
  const signature = signEd25519(privateKeyObject(publisherSeed), sigStructure(protectedBytes, payloadBytes));
  const bytes = encode(new Tagged(cose.tagSign1, [protectedBytes, new Map(), payloadBytes, signature]));
  if (bytes.length > manifestBytesMax) throw new Error(`assertion: manifest is ${bytes.length} bytes, over ${manifestBytesMax}`);
  return bytes;
}

function decodeStrict(bytes: Uint8Array, what: string): CborValue {
  try {
    return decode(bytes, { depthMax: 3, itemsMax: 8, bytesMax: manifestBytesMax });
  } catch (e) {
    return fail(`${what} is not deterministic CBOR (${(e as Error).message})`);
  }
}

const isUint = (v: CborValue): v is number => typeof v === "number" && Number.isSafeInteger(v) && v >= 0;

function manifestFromPayload(payloadBytes: Uint8Array): FirmwareManifest {
  const map = decodeStrict(payloadBytes, "manifest payload");
  if (!(map instanceof Map)) fail("manifest payload must be a CBOR map");
  for (const k of map.keys()) {
    if (typeof k !== "number" || k < key.format || k > key.versionText) fail(`manifest has an unknown key ${String(k)}`);
  }
  for (const k of [key.format, key.version, key.vendorId, key.classId, key.imageBytes, key.imageDigest, key.abiVersion]) {
    if (!map.has(k)) fail(`manifest lacks key ${k}`);
  }
  if (map.get(key.format) !== manifestFormatVersion) fail(`manifest format must be ${manifestFormatVersion}`);
  const version = map.get(key.version)!;
  const vendorId = map.get(key.vendorId)!;
  const classId = map.get(key.classId)!;
  const imageBytes = map.get(key.imageBytes)!;
  const digest = map.get(key.imageDigest)!;
  const abiVersion = map.get(key.abiVersion)!;
  const versionText = map.get(key.versionText);
  if (!isUint(version) || !isUint(imageBytes) || !isUint(abiVersion)) fail("version, image size and ABI version must be unsigned integers");
  if (!(vendorId instanceof Uint8Array) || !(classId instanceof Uint8Array)) fail("vendor and class ids must be byte strings");
  if (!Array.isArray(digest) || digest.length !== 2 || digest[0] !== coseAlgSha256 || !(digest[1] instanceof Uint8Array)) {
    fail("image digest must be [-16, bstr(32)] (SHA-256)");
  }
  if (versionText !== undefined && typeof versionText !== "string") fail("version text must be a text string");
  const manifest: FirmwareManifest = { version, vendorId, classId, imageBytes, imageDigest: digest[1] as Uint8Array, abiVersion };
  if (versionText !== undefined) manifest.versionText = versionText;
  checkFields(manifest);
  return manifest;
}

/**
 * Decodes a manifest's COSE_Sign1 without checking its signature (use verifyManifest). Refuses with
 * FirmwareError "MANIFEST" anything but the one deterministic form, and another vendor or class.
 */
export function decodeManifest(bytes: Uint8Array): SignedManifest {
  if (!(bytes instanceof Uint8Array)) fail("manifest must be bytes");
  if (bytes.length > manifestBytesMax) fail(`manifest is ${bytes.length} bytes, at most ${manifestBytesMax}`);
  const top = decodeStrict(bytes, "manifest");
  if (!(top instanceof Tagged) || top.tag !== cose.tagSign1) fail("expected a COSE_Sign1 (CBOR tag 18)");
  const parts = top.value;
  if (!Array.isArray(parts) || parts.length !== 4) fail("COSE_Sign1 must be an array of 4");
  const [protectedBytes, unprotected, payloadBytes, signature] = parts;
  if (!(protectedBytes instanceof Uint8Array) || !(payloadBytes instanceof Uint8Array) || !(signature instanceof Uint8Array)) {
    fail("protected header, payload and signature must be byte strings");
  }
  if (signature.length !== 64) fail("EdDSA signature must be 64 bytes");
  if (!(unprotected instanceof Map) || unprotected.size !== 0) fail("unprotected header must be empty");
  const prot = decodeStrict(protectedBytes, "protected header");
  if (!(prot instanceof Map) || prot.size !== 2 || prot.get(cose.headerAlg) !== cose.algEdDSA) {
    fail("protected header must be exactly {1: -8, 4: kid}");
  }
  const kid = prot.get(cose.headerKid);
  if (!(kid instanceof Uint8Array) || kid.length !== manifestKidBytes) fail(`kid must be ${manifestKidBytes} bytes`);
  const manifest = manifestFromPayload(payloadBytes);
  if (!bytesEqual(manifest.vendorId, firmwareVendorId) || !bytesEqual(manifest.classId, firmwareClassId)) {
    fail("manifest is for another vendor or class of device");
  }
  return { manifest, kid, protectedBytes, payloadBytes, signature, bytes, imageId: manifestImageId(bytes) };
}

/**
 * Checks the signature under the first of `publisherKeys` (raw 32-byte Ed25519 keys) whose kid matches;
 * returns that key. FirmwareError "SIGNATURE" when none verifies.
 */
export function verifyManifest(signed: SignedManifest, publisherKeys: Uint8Array | readonly Uint8Array[]): Uint8Array {
  const keys = publisherKeys instanceof Uint8Array ? [publisherKeys] : publisherKeys;
  const message = sigStructure(signed.protectedBytes, signed.payloadBytes);
  for (const k of keys) {
    if (k.length !== 32 || !bytesEqual(publisherKid(k), signed.kid)) continue;
    if (verifyEd25519(publicKeyObject(k), message, signed.signature)) return k;
  }
  throw new FirmwareError(
    "SIGNATURE",
    `manifest ${signed.imageId} (kid ${toHex(signed.kid)}) is not signed by a trusted publisher key; sign it with one of them`,
  );
}

/** Decode and verify in one step. */
export function openManifest(bytes: Uint8Array, publisherKeys: Uint8Array | readonly Uint8Array[]): SignedManifest {
  const signed = decodeManifest(bytes);
  verifyManifest(signed, publisherKeys);
  return signed;
}

/** FirmwareError "DIGEST" unless `image` has the manifest's size and SHA-256. */
export function verifyImage(manifest: FirmwareManifest, image: Uint8Array): void {
  if (image.length !== manifest.imageBytes) {
    throw new FirmwareError("DIGEST", `image is ${image.length} bytes, the manifest says ${manifest.imageBytes}: use the image the manifest was signed for`);
  }
  if (!bytesEqual(sha256(image), manifest.imageDigest)) {
    throw new FirmwareError("DIGEST", "image's SHA-256 differs from the manifest's digest: use the image the manifest was signed for");
  }
}

