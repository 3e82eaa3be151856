// Readings whose device signature this process has verified: each reading's Ed25519 signature is
// checked once per process, wherever it is first met (ingest, gossip admission, a proposal's
// pre-verification, block execution), and every later check of the same reading is a look-up.
// bench:net's profiles showed each gateway verifying a reading up to three times: at ingest, again
// when its own batch entered its mempool, and again when a block carried a batch whose gossip had
// not been admitted yet.
//
// The key is the reading's digest (SHA-256 of the exact COSE_Sign1 bytes, signature included) with
// the raw public key it verified under, so a hit means "these exact bytes verify under this key":
// a pure fact, the same on every node, never a matter of timing. Only a real verification adds an
// entry. Bounded in two generations (shared/lru.ts): at most `entriesMax` keys of 64
// one-byte characters, about 100 bytes each.
//
//   if (!verifiedReadings.has(digest, publicKey) && !verify(...)) refuse();
//   verifiedReadings.add(digest, publicKey);   // after a verification that succeeded
import { toLatin1 } from "./ed25519.ts";
import { Lru } from "./lru.ts";
export class VerifiedReadings {
  private readonly entries: Lru<string, true>;

  constructor(readonly entriesMax: number) {
    this.entries = new Lru(entriesMax);
  }

  has(digest: Uint8Array, publicKey: Uint8Array): boolean {
    return this.entries.get(key(digest, publicKey)) !== undefined;
  }

  /** Records a signature that verified: call only after the verification itself succeeded. */
  add(digest: Uint8Array, publicKey: Uint8Array): void {
    this.entries.set(key(digest, publicKey), true);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Forgets everything (benches measuring a process that meets the data for the first time). */
  clear(): void {
    this.entries.clear();
  }
}

const key = (digest: Uint8Array, publicKey: Uint8Array): string => toLatin1(digest) + toLatin1(publicKey);

/** The process's cache: 131,072 readings, over a minute of bench:net's saturated load. */
export const verifiedReadings = new VerifiedReadings(1 << 17);
