// Transactions whose envelope signature and, for a reading batch, attestation this process has
// verified: what TxContext.signaturesVerified stands for (context.ts). Each is checked once per
// process wherever it is first met: mempool admission (its own batches, the API, a peer's gossip)
// or a proposal's pre-verification (gateway/consensus/proposal-preverify.ts), both on libuv's thread
// pool where they can be; block execution then finds it here. bench:net's profiles showed both
// signatures of a peer's batch verified synchronously on the consensus thread at admission and again
// when a proposal carried the batch before its gossip was admitted.
//
// The key is the chain id with verifiedKey (the transaction's id and signature, which determine its
// bytes exactly), so a hit means "these exact bytes verified for this chain": a pure fact, since an
// author id's key never changes. Only a verification that succeeded adds an entry. Device
// signatures are not covered: they are remembered per reading (shared/verified-readings.ts).
// Bounded in two generations (like shared/verified-readings.ts), about 200 bytes a key.
import { batchSignedMessage } from "../../shared/attestation.ts";
import { decodedReadings } from "../../shared/decoded-readings.ts";
import { verifyEd25519Async } from "../../shared/ed25519.ts";
import { txSigningMessage, type DecodedTx } from "../../shared/tx.ts";
import { verifiedKey, type KeyCache } from "./context.ts";

export class VerifiedTxs {
  private young = new Set<string>();
  private old = new Set<string>();
  private readonly generationMax: number;

  constructor(readonly entriesMax: number) {
    this.generationMax = Math.max(1, Math.floor(entriesMax / 2));
  }

  has(chainId: string, tx: DecodedTx): boolean {
    const k = `${chainId}/${verifiedKey(tx)}`;
    return this.young.has(k) || this.old.has(k);
  }

  /** Records a transaction whose envelope (and attestation) verified: call only after that verification. */
  add(chainId: string, tx: DecodedTx): void {
    this.young.add(`${chainId}/${verifiedKey(tx)}`);
    if (this.young.size >= this.generationMax) {
      this.old = this.young;
      this.young = new Set();
    }
  }

  get size(): number {
    return this.young.size + this.old.size;
  }
}

/** The process's set: 65,536 transactions, minutes of bench:net's saturated load. */
export const verifiedTxs = new VerifiedTxs(1 << 16);

/**
 * Verifies the envelope signature and a batch's attestation on the thread pool and, when both
 * verify, adds the transaction to `verifiedTxs`. False when either does not verify (execution or
 * admission then refuses the transaction with its reason); true at once when already there.
 */
export async function verifyTxSignaturesAsync(chainId: string, keys: KeyCache, tx: DecodedTx): Promise<boolean> {
  if (verifiedTxs.has(chainId, tx)) return true;
  let key;
  try {
    key = keys.get(tx.author);
  } catch {
    return false; // not a valid Ed25519 key: the envelope check refuses it
  }
  const checks = [verifyEd25519Async(key, txSigningMessage(chainId, tx.unsigned), tx.signature)];
  if (tx.body.kind === "readingBatch") {
    const message = batchSignedMessage(tx.body.attestation, tx.body.readings.map((r) => ({ digest: decodedReadings.digest(r.bytes), receivedAtMs: r.receivedAtMs })));
    if (!message) return false;
    checks.push(verifyEd25519Async(key, message, tx.body.attestation.signature));
  }
  if (!(await Promise.all(checks)).every(Boolean)) return false;
  verifiedTxs.add(chainId, tx);
  return true;
}
