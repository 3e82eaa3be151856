// Validator signatures this process verified, for the one place that meets the same signature again:
// a commit vote verified when it arrived (gateway/consensus/core.ts) comes back in the next block's
// certificate of its parent (lastCommit), which every validator checks in every block it validates
// (gateway/chain/certificate.ts): a quorum of verifications per block per validator, done twice.
//
// The key is the raw public key with the exact message and signature, so a hit means "this signature
// over these bytes verifies under this key": a pure fact, never a matter of timing. Only a real
// verification that succeeded adds an entry. A key object not made by publicKeyObject (so of unknown
// raw bytes) is verified every time. Bounded (shared/lru.ts): votes are small and short-lived.
//
//   const ok = verifyRemembered(key, message, signature);   // as verifyEd25519
import type { KeyObject } from "node:crypto";
import { publicKeyId, toLatin1, verifyEd25519 } from "./ed25519.ts";
import { Lru } from "./lru.ts";

export class VerifiedSignatures {
  private readonly entries: Lru<string, true>;
  readonly stats = { hits: 0, misses: 0 };

  constructor(readonly entriesMax: number) {
    this.entries = new Lru(entriesMax);
  }

  /** verifyEd25519, remembering successes. */
  verify(key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean {
    const id = publicKeyId(key);
    if (id === undefined) return verifyEd25519(key, message, signature);
    const k = `${id}/${toLatin1(signature)}/${toLatin1(message)}`;
    if (this.entries.get(k)) {
      this.stats.hits++;
      return true;
    }
    this.stats.misses++;
    if (!verifyEd25519(key, message, signature)) return false;
    this.entries.set(k, true);
    return true;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The process's set: 4,096 signatures, minutes of votes at 7 validators and 5 blocks/s. */
export const verifiedSignatures = new VerifiedSignatures(4096);

export const verifyRemembered = (key: KeyObject, message: Uint8Array, signature: Uint8Array): boolean => verifiedSignatures.verify(key, message, signature);
