// The mempool: transactions verified and waiting for a block. Bounded in count, bytes and per
// author (options.ts); admission checks everything it can against the committed state and the
// transactions already pending, with typed reasons (TxRejected), so the proposer rarely meets a
// bad transaction and the API can tell a client what was wrong at once.
//
// Per author, nonces must follow on without gaps (account nonce, then +1 per pending). Reading
// batches are refused only for what is wrong with the batch itself (gateway not registered,
// attestation); each reading's fate is its outcome in the block (apply-readings.ts), so a batch
// whose readings were overtaken by events still lands and its author's nonces keep moving.
// What admission verified is remembered per process, so block execution does not verify it again:
// envelope and attestation signatures in verified-txs.ts, device signatures per reading in
// shared/verified-readings.ts (a forged reading still gets its outcome at execution).
import { toHex } from "../../shared/ed25519.ts";
import { decodeTx, TxError, type DecodedTx } from "../../shared/tx.ts";
import { admitReadingBatch } from "./apply-readings.ts";
import { checkValidatorEvidence } from "./apply-evidence.ts";
import { applyTx, checkEnvelope } from "./apply-tx.ts";
import type { Chain } from "./chain.ts";
import { RecordedReadings, type TxContext } from "./context.ts";
import { reject, TxRejected, type TxRejectCode } from "./errors.ts";
import { mempoolDefaults, type MempoolOptions } from "./options.ts";
import { verifiedTxs } from "./verified-txs.ts";

interface Entry {
  tx: DecodedTx;
  authorHex: string;
}

export class Mempool {
  readonly options: MempoolOptions;
  /** Arrival order: Map iteration is insertion order. Local policy only, never consensus. */
  private readonly entries = new Map<string, Entry>();
  private readonly byAuthor = new Map<string, Entry[]>();
  private bytes = 0;

  constructor(
    readonly chain: Chain,
    options: Partial<MempoolOptions> = {},
  ) {
    this.options = { ...mempoolDefaults, ...options };
    chain.signaturesVerified = (tx) => this.verified(tx);
  }

  get size(): number {
    return this.entries.size;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  /**
   * True if the envelope and attestation of these exact bytes verified in this process: at admission
   * here or in a proposal's pre-verification (verified-txs.ts).
   */
  verified(tx: DecodedTx): boolean {
    return verifiedTxs.has(this.chain.chainId, tx);
  }

  /** The nonce the author's next transaction must carry. */
  nextNonce(authorId: Uint8Array): number {
    return this.chain.state().account(authorId).nonce + (this.byAuthor.get(toHex(authorId))?.length ?? 0);
  }

  /** Transactions of this author waiting here. */
  pendingFrom(authorId: Uint8Array): number {
    return this.byAuthor.get(toHex(authorId))?.length ?? 0;
  }

  has(id: Uint8Array): boolean {
    return this.entries.has(toHex(id));
  }

  /**
   * Decodes, checks and queues a transaction. `nowMs` is this node's clock. Throws TxRejected.
   * Readings whose device signatures this process verified already (ingest, reading-preverify.ts
   * on the thread pool) are look-ups in shared/verified-readings.ts. A caller that decoded the
   * transaction already passes it decoded.
   */
  add(input: Uint8Array | DecodedTx, nowMs: number): DecodedTx {
    let tx: DecodedTx;
    try {
      tx = input instanceof Uint8Array ? decodeTx(input) : input;
    } catch (e) {
      if (e instanceof TxError) throw new TxRejected(e.code as TxRejectCode, e.message);
      throw e;
    }
    const bytes = tx.bytes;
    const idHex = toHex(tx.id);
    if (this.entries.has(idHex)) reject("TX_DUPLICATE", `transaction ${idHex} is already pending`);
    if (this.entries.size >= this.options.txsMax || this.bytes + bytes.length > this.options.bytesMax) {
      reject("MEMPOOL_FULL", `the mempool holds ${this.entries.size} transactions (${this.bytes} bytes); retry after the next block`);
    }
    const authorHex = toHex(tx.authorId);
    const queue = this.byAuthor.get(authorHex) ?? [];
    if (queue.length >= this.options.perAuthorMax) reject("MEMPOOL_AUTHOR_FULL", `author ${authorHex} has ${queue.length} pending transactions; wait for a block`);
    const entry = { tx, authorHex };
    this.admit(tx, queue.length, nowMs);
    verifiedTxs.add(this.chain.chainId, tx); // admit checked the envelope and attestation, or threw
    this.entries.set(idHex, entry);
    queue.push(entry);
    this.byAuthor.set(authorHex, queue);
    this.bytes += bytes.length;
    return tx;
  }

  /** Every check that does not need the pending transactions' effects; throws TxRejected with the reason. */
  private admit(tx: DecodedTx, pendingFromAuthor: number, nowMs: number): void {
    const state = this.chain.state();
    const head = this.chain.head();
    const ctx: TxContext = {
      chainId: this.chain.chainId,
      height: head.height + 1,
      timeMs: Math.max(nowMs, head.header.timeMs + 1),
      params: state.params(),
      validators: state.validators(),
      keys: this.chain.keys,
      // Verified earlier in this process (a proposal carried it before its gossip came: verified-txs.ts), or not yet.
      signaturesVerified: (t) => verifiedTxs.has(this.chain.chainId, t),
      recorded: new RecordedReadings((id, seq) => this.chain.store.recordedReading(id, seq)),
    };
    checkEnvelope(state, tx, ctx, state.account(tx.authorId).nonce + pendingFromAuthor);
    if (tx.body.kind === "readingBatch") {
      admitReadingBatch(state, tx, tx.body, ctx); // throws for the batch; verifies (and remembers) each reading's signature
    } else if (tx.body.kind === "validatorEvidence") {
      // Evidence that can never apply is refused; evidence the chain holds already, or against a
      // key no longer a validator, lands as a failed result (apply-tx.ts) so its nonce is not stuck.
      try {
        checkValidatorEvidence(state, tx.body.evidence, ctx.chainId, ctx.validators);
      } catch (e) {
        if (!(e instanceof TxRejected) || e.code === "VALIDATOR_EVIDENCE_MALFORMED" || e.code === "VALIDATOR_EVIDENCE_INVALID") throw e;
      }
    } else if (pendingFromAuthor === 0) {
      // The author's first pending transaction applies to the committed state exactly as it will
      // in the next block: a trial run gives the precise reason now (signatures already checked).
      applyTx(state.fork(), tx, { ...ctx, signaturesVerified: () => true });
    }
  }

  /** Up to `txsMax` transactions (and `bytesMax` bytes) for a block, oldest first, nonces in order. */
  take(txsMax: number, bytesMax = Number.MAX_SAFE_INTEGER): DecodedTx[] {
    const out: DecodedTx[] = [];
    let bytes = 0;
    for (const e of this.entries.values()) {
      if (out.length >= txsMax) break;
      if (bytes + e.tx.bytes.length > bytesMax) continue;
      bytes += e.tx.bytes.length;
      out.push(e.tx);
    }
    return out;
  }

  /**
   * After a block commits (ours or another proposer's): drops what it included, what the
   * proposer rejected, and whatever can no longer apply (stale or gapped nonces).
   */
  onCommit(included: DecodedTx[], rejected: DecodedTx[] = []): void {
    for (const tx of [...included, ...rejected]) this.remove(toHex(tx.id));
    const state = this.chain.state();
    for (const [authorHex, queue] of [...this.byAuthor]) {
      let nonce = state.account(queue[0].tx.authorId).nonce;
      for (const e of [...queue]) {
        if (e.tx.nonce === nonce) nonce++;
        else this.remove(toHex(e.tx.id));
      }
      if (!this.byAuthor.get(authorHex)?.length) this.byAuthor.delete(authorHex);
    }
  }

  private remove(idHex: string): void {
    const e = this.entries.get(idHex);
    if (!e) return;
    this.entries.delete(idHex);
    this.bytes -= e.tx.bytes.length;
    const queue = this.byAuthor.get(e.authorHex);
    if (queue) {
      const i = queue.indexOf(e);
      if (i >= 0) queue.splice(i, 1);
      if (queue.length === 0) this.byAuthor.delete(e.authorHex);
    }
  }
}
