// Ed25519 on the Node side. Hot paths verify through node:crypto (OpenSSL) with KeyObjects parsed
// once and cached; this is the one function every consensus-relevant signature check goes through.
import { createPrivateKey, createPublicKey, sign, verify, hash, type KeyObject } from "node:crypto";
import { toHex } from "./byte-strings.ts";
import { Lru } from "./lru.ts";

// DER prefixes that wrap a raw 32-byte key as SubjectPublicKeyInfo / PKCS#8 (RFC 8410 §4, §7).
const spkiPrefix = Buffer.from("302a300506032b6570032100", "hex");
const pkcs8Prefix = Buffer.from("302e020100300506032b657004220420", "hex");

export function publicKeyObject(raw: Uint8Array): KeyObject {
  if (raw.length !== 32) throw new RangeError(`an Ed25519 public key is 32 bytes, got ${raw.length}`);
  const key = createPublicKey({ key: Buffer.concat([spkiPrefix, raw]), format: "der", type: "spki" });
  publicKeyIds.set(key, toHex(raw));
  return key;
}

/** The raw key (hex) of each key object made here: what identifies a key across caches (verified-signatures.ts). */
const publicKeyIds = new WeakMap<KeyObject, string>();

/** The hex of the raw public key `key` was made from, or undefined when it was not made by publicKeyObject. */
export function publicKeyId(key: KeyObject): string | undefined {
  return publicKeyIds.get(key);
}

export function privateKeyObject(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new RangeError(`an Ed25519 seed is 32 bytes, got ${seed.length}`);
  return createPrivateKey({ key: Buffer.concat([pkcs8Prefix, seed]), format: "der", type: "pkcs8" });
}

/** Raw 32-byte public key of a seed (RFC 8032 §5.1.5). */
export function publicKeyFromSeed(seed: Uint8Array): Uint8Array {
  const der = createPublicKey(privateKeyObject(seed)).export({ format: "der", type: "spki" });
  return new Uint8Array(der.subarray(spkiPrefix.length));
}

export function signEd25519(key: KeyObject, message: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, message, key));
}

/**
 * The signature rule: RFC 8032 Ed25519 as OpenSSL verifies it (S < L enforced, cofactorless).
 * Malformed lengths are a plain `false`, never an exception.
 */
export function verifyEd25519(key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
  if (signature.length !== 64) return false;
  return verify(null, message, key, signature);
}

/**
 * The same rule as verifyEd25519, on libuv's thread pool: node:crypto's verify with a callback runs
 * OpenSSL off the event loop, so a gateway verifies on every core while its main thread parses CoAP.
 */
export function verifyEd25519Async(key: KeyObject, message: Uint8Array, signature: Uint8Array): Promise<boolean> {
  if (signature.length !== 64) return Promise.resolve(false);
  return new Promise((resolve) => verify(null, message, key, signature, (err, ok) => resolve(!err && ok)));
}

/**
 * Bounded cache of parsed public keys, keyed by their raw bytes. Asked once per reading on every
 * gateway: a hit is one look-up, without copying the bytes or re-inserting the entry (shared/lru.ts).
 */
export class PublicKeyCache {
  private readonly keys: Lru<string, KeyObject>;
  constructor(readonly entriesMax = 100_000) {
    this.keys = new Lru(entriesMax);
  }

  get(raw: Uint8Array): KeyObject {
    const id = toHex(raw);
    let key = this.keys.get(id);
    if (!key) {
      key = publicKeyObject(raw);
      this.keys.set(id, key);
    }
    return key;
  }
}

// One-shot crypto.hash: a createHash object per call cost more than hashing a short input. The
// digest is returned as a plain Uint8Array over the Buffer crypto.hash made, not copied: a copy
// lives on V8's heap (32 bytes), and each later `.subarray`, SQLite bind or crypto call on it moved
// it to a malloc'd store of its own.
export function sha256(data: Uint8Array): Uint8Array {
  const d = hash("sha256", data, "buffer");
  return new Uint8Array(d.buffer, d.byteOffset, d.byteLength);
}

/** Device id: the first 16 bytes of SHA-256 of the device's public key (BRIEF §7, clause 8.1). */
export function deviceIdFromPublicKey(publicKey: Uint8Array): Uint8Array {
  return sha256(publicKey).subarray(0, 16);
}

// Re-exported: most callers meet these beside the keys and digests they turn into strings.
export { fromHex, toHex, toLatin1 } from "./byte-strings.ts";
