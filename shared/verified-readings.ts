// Readings whose device signature this process has verified: each reading's Ed25519 signature is
// checked once per process, wherever it is first met (ingest, gossip admission, a proposal's
// pre-verification, block execution), and every later check of the same reading is a look-up.
// bench:net's profiles showed each gateway verifying a reading up to three times: at ingest, again
// when its own batch entered its mempool, and again when a block carried a batch whose gossip had
// not been admitted yet.
//
// An entry is the reading's digest (SHA-256 of the exact COSE_Sign1 bytes, signature included) with
// the raw public key it verified under, so a hit means "these exact bytes verify under this key":
// a pure fact, the same on every node, never a matter of timing. Only a real verification adds an
// entry. The Map key is the digest alone (32 one-byte characters) and the key bytes are the value,
// compared on a hit: each gateway asks about every reading four times or more, and building and
// hashing a 64-character key of both each time showed in bench:chain-cpu's validate profile (7%).
// A digest verifies under its own device's key only, so one key per digest loses nothing; were
// another key ever added for it, the first would be verified again when asked. Bounded in two
// generations (shared/lru.ts): at most `entriesMax` entries, about 150 bytes each.
//
//   if (!verifiedReadings.has(digest, publicKey) && !verify(...)) refuse();
//   verifiedReadings.add(digest, publicKey);   // after a verification that succeeded
//   await verifiedReadings.verifyOnce(digest, publicKey, () => verifyAsync(...));   // off the thread
//
// Asynchronous verifications under way are shared too (verifyOnce): a proposal that carries a batch
// whose gossip admission is still verifying it waited for those same verifications, where it used
// to queue a second verification of each reading behind them on the thread pool.
import { bytesEqual, toLatin1 } from "./byte-strings.ts";
import { Lru } from "./lru.ts";
export class VerifiedReadings {
  /** Digest (latin1) → the public key it verified under. */
  private readonly entries: Lru<string, Uint8Array>;
  /** Verifications under way (verifyOnce), by digest and key; each leaves when it settles. */
  private readonly verifying = new Map<string, Promise<boolean>>();
  /** verifyOnce's calls: verifications run, and calls that joined one under way instead. */
  readonly stats = { run: 0, joined: 0 };

  constructor(readonly entriesMax: number) {
    this.entries = new Lru(entriesMax);
  }

  has(digest: Uint8Array, publicKey: Uint8Array): boolean {
    const verifiedUnder = this.entries.get(toLatin1(digest));
    return verifiedUnder !== undefined && bytesEqual(verifiedUnder, publicKey);
  }

  /** Records a signature that verified: call only after the verification itself succeeded. */
  add(digest: Uint8Array, publicKey: Uint8Array): void {
    // A copy: the caller's array may be a view of a record or frame it reuses.
    this.entries.set(toLatin1(digest), publicKey.slice());
  }

  /**
   * Whether the reading verifies under the key, verified at most once per process at a time: true
   * when it verified before; the verification under way when there is one; else `verify()`, recorded
   * when it succeeds (before anyone awaiting it resumes).
   */
  verifyOnce(digest: Uint8Array, publicKey: Uint8Array, verify: () => Promise<boolean>): Promise<boolean> {
    if (this.has(digest, publicKey)) return Promise.resolve(true);
    const k = toLatin1(digest) + toLatin1(publicKey);
    const under = this.verifying.get(k);
    if (under) {
      this.stats.joined++;
      return under;
    }
    this.stats.run++;
    const run = verify().then(
      (ok) => {
        this.verifying.delete(k);
        if (ok) this.add(digest, publicKey);
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

/** The process's cache: 131,072 readings, over a minute of bench:net's saturated load. */
export const verifiedReadings = new VerifiedReadings(1 << 17);
