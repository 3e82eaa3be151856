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
//   await verifiedReadings.verifyOnce(digest, publicKey, () => verifyAsync(...));   // off the thread
//
// Asynchronous verifications under way are shared too (verifyOnce): a proposal that carries a batch
// whose gossip admission is still verifying it waited for those same verifications, where it used
// to queue a second verification of each reading behind them on the thread pool.
import { toLatin1 } from "./ed25519.ts";
import { Lru } from "./lru.ts";
export class VerifiedReadings {
  private readonly entries: Lru<string, true>;
  /** Verifications under way (verifyOnce), by key; each leaves when it settles. */
  private readonly verifying = new Map<string, Promise<boolean>>();
  /** verifyOnce's calls: verifications run, and calls that joined one under way instead. */
  readonly stats = { run: 0, joined: 0 };

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

  /**
   * Whether the reading verifies under the key, verified at most once per process at a time: true
   * when it verified before; the verification under way when there is one; else `verify()`, recorded
   * when it succeeds (before anyone awaiting it resumes).
   */
  verifyOnce(digest: Uint8Array, publicKey: Uint8Array, verify: () => Promise<boolean>): Promise<boolean> {
    const k = key(digest, publicKey);
    if (this.entries.get(k) !== undefined) return Promise.resolve(true);
    const under = this.verifying.get(k);
    if (under) {
      this.stats.joined++;
      return under;
    }
    this.stats.run++;
    const run = verify().then(
      (ok) => {
        this.verifying.delete(k);
        if (ok) this.entries.set(k, true);
        return ok;
      },
      (e: unknown) => {
        this.verifying.delete(k);
        throw e;
      },
    );
    this.verifying.set(k, run);
    return run;
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
