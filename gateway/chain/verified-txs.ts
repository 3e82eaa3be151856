// Transactions whose envelope signature and, for a reading batch, attestation this process has
// verified: what TxContext.signaturesVerified stands for (context.ts). Each is checked once per
// process wherever it is first met: mempool admission (its own batches, the API, a peer's gossip)
// or a proposal's pre-verification (gateway/consensus/proposal-preverify.ts); block execution, a
// later round's proposal of the same batch, or its gossip arriving after the proposal then find it
// here. Before, a batch met first in a proposal was verified by every execution of it (app.validate
// cannot record what verified), and again at admission when its gossip came in before the commit.
//
// The key is the chain id with verifiedKey (the transaction's id and signature, which determine its
// bytes exactly), so a hit means "these exact bytes verified for this chain": a pure fact, since an
// author id's key never changes. Only a verification that succeeded adds an entry. Device
// signatures are not covered: they are remembered per reading (shared/verified-readings.ts).
// Bounded in two generations (shared/lru.ts), about 200 bytes a key.
import { verifyBatch } from "../../shared/attestation.ts";
import { decodedReadings } from "../../shared/decoded-readings.ts";
import { verifyEd25519 } from "../../shared/ed25519.ts";
import { Lru } from "../../shared/lru.ts";
import { txSigningMessage, type DecodedTx } from "../../shared/tx.ts";
import { verifiedKey, type KeyCache } from "./context.ts";
import { invariant } from "./errors.ts";
import type { Identity } from "./keyfile.ts";

export class VerifiedTxs {
  private readonly entries: Lru<string, true>;

  constructor(readonly entriesMax: number) {
    this.entries = new Lru(entriesMax);
  }

  has(chainId: string, tx: DecodedTx): boolean {
    return this.entries.get(`${chainId}/${verifiedKey(tx)}`) !== undefined;
  }

  /** Records a transaction whose envelope (and attestation) verified: call only after that verification. */
  add(chainId: string, tx: DecodedTx): void {
    this.entries.set(`${chainId}/${verifiedKey(tx)}`, true);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Forgets everything (benches measuring a process that meets the data for the first time). */
  clear(): void {
    this.entries.clear();
  }
}

/**
 * Records a transaction this process signed a moment ago (node-signer.ts) with the key its envelope
 * names as author and, for a reading batch, whose attestation it made itself with that same key over
 * exactly the readings carried (`attestedHere`: reading-feed.ts). Both signatures verify by
 * construction (an Identity's key and public key come from one seed; Ed25519 signing is
 * deterministic), so verifying them again at the local mempool's admission only cost the signing
 * gateway two verifications per batch. Anything else about the transaction is still checked there.
 */
export function addSignedHere(chainId: string, tx: DecodedTx, identity: Identity, attestedHere: boolean): void {
  invariant(Buffer.compare(tx.author, identity.publicKey) === 0, "a transaction signed here names this node's key as author");
  if (tx.body.kind === "readingBatch" && !attestedHere) return;
  verifiedTxs.add(chainId, tx);
}

/** The process's set: 65,536 transactions, minutes of bench:net's saturated load. */
export const verifiedTxs = new VerifiedTxs(1 << 16);

/**
 * Verifies the envelope signature and a batch's attestation, here on the calling thread, once per
 * process: true at once when `verifiedTxs` holds the transaction, else verified and, when both
 * verify, added. False when either does not (execution or admission then refuses the transaction
 * with its reason). Synchronous on purpose: measured on this machine, handing one or two
 * verifications (~105 µs each) to the thread pool cost the main thread 12 to 43 µs each, so it
 * saved the main thread little and added CPU in total, which is what a saturated gateway lacks.
 */
export function verifyTxSignatures(chainId: string, keys: KeyCache, tx: DecodedTx): boolean {
  if (verifiedTxs.has(chainId, tx)) return true;
  let key;
  try {
    key = keys.get(tx.author);
  } catch {
    return false; // not a valid Ed25519 key: the envelope check refuses it
  }
  if (!verifyEd25519(key, txSigningMessage(chainId, tx.unsigned), tx.signature)) return false;
  if (tx.body.kind === "readingBatch") {
    const leaves = tx.body.readings.map((r) => ({ digest: decodedReadings.digest(r.bytes), receivedAtMs: r.receivedAtMs }));
    if (!verifyBatch(tx.body.attestation, key, leaves)) return false;
  }
  verifiedTxs.add(chainId, tx);
  return true;
}
