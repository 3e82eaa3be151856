// The mempool: transactions verified and waiting for a block. Bounded in count, bytes and per
// author (options.ts); admission checks everything it can against the committed state and the
// transactions already pending, with typed reasons (TxRejected), so the proposer rarely meets a
// bad transaction and the API can tell a client what was wrong at once.
//
// Per author, nonces must follow on without gaps (account nonce, then +1 per pending). Reading
// batches are checked in full: gateway registered, attestation signature over the Merkle root,
// each device reading's signature, device enrolled and active, sequence above both the chain's
// and any pending batch's. Verified transaction ids are remembered (bounded) so block execution
// does not verify the same signatures again.
import { toHex } from "../../shared/ed25519.ts";
import { decodeTx, TxError, type DecodedTx } from "../../shared/tx.ts";
import { checkReadingBatch } from "./apply-readings.ts";
import { checkValidatorEvidence } from "./apply-evidence.ts";
import { applyTx, checkEnvelope } from "./apply-tx.ts";
import type { Chain } from "./chain.ts";
import { verifiedKey, type TxContext } from "./context.ts";
import { reject, TxRejected, type TxRejectCode } from "./errors.ts";
import { Lru } from "../storage/lru.ts";
import { mempoolDefaults, type MempoolOptions } from "./options.ts";

interface Entry {
  tx: DecodedTx;
  authorHex: string;
  /** Highest sequence per device carried by this batch (empty for other kinds). */
  deviceSequences: Map<string, number>;
}

export class Mempool {
  readonly options: MempoolOptions;
  /** Arrival order: Map iteration is insertion order. Local policy only, never consensus. */
  private readonly entries = new Map<string, Entry>();
  private readonly byAuthor = new Map<string, Entry[]>();
  private readonly devicePending = new Map<string, number>();
  private readonly verifiedIds: Lru<string, true>;
  private bytes = 0;

  constructor(
    readonly chain: Chain,
    options: Partial<MempoolOptions> = {},
  ) {
    this.options = { ...mempoolDefaults, ...options };
    this.verifiedIds = new Lru(this.options.verifiedIdsMax);
    chain.signaturesVerified = (tx) => this.verified(tx);
  }

  get size(): number {
    return this.entries.size;
  }

  get sizeBytes(): number {
    return this.bytes;
  }

  /** True if these exact bytes (signature included) passed admission here. */
  verified(tx: DecodedTx): boolean {
    return this.verifiedIds.get(verifiedKey(tx)) !== undefined;
  }

  /** The nonce the author's next transaction must carry. */
  nextNonce(authorId: Uint8Array): number {
    return this.chain.state().account(authorId).nonce + (this.byAuthor.get(toHex(authorId))?.length ?? 0);
  }

  /** Highest sequence of a device on chain or pending here (-1 if none). */
  deviceSequence(deviceId: Uint8Array): number {
    const hex = toHex(deviceId);
    const onChain = this.chain.state().device(deviceId)?.lastSequence ?? -1;
    return Math.max(onChain, this.devicePending.get(hex) ?? -1);
  }

  /** Decodes, checks and queues a transaction. `nowMs` is this node's clock. Throws TxRejected. */
  add(bytes: Uint8Array, nowMs: number): DecodedTx {
    let tx: DecodedTx;
    try {
      tx = decodeTx(bytes);
    } catch (e) {
      if (e instanceof TxError) throw new TxRejected(e.code as TxRejectCode, e.message);
      throw e;
    }
    const idHex = toHex(tx.id);
    if (this.entries.has(idHex)) reject("TX_DUPLICATE", `transaction ${idHex} is already pending`);
    if (this.entries.size >= this.options.txsMax || this.bytes + bytes.length > this.options.bytesMax) {
      reject("MEMPOOL_FULL", `the mempool holds ${this.entries.size} transactions (${this.bytes} bytes); retry after the next block`);
    }
    const authorHex = toHex(tx.authorId);
    const queue = this.byAuthor.get(authorHex) ?? [];
    if (queue.length >= this.options.perAuthorMax) reject("MEMPOOL_AUTHOR_FULL", `author ${authorHex} has ${queue.length} pending transactions; wait for a block`);
    const entry = { tx, authorHex, deviceSequences: this.admit(tx, queue.length, nowMs) };
    this.verifiedIds.set(verifiedKey(tx), true);
    this.entries.set(idHex, entry);
    queue.push(entry);
    this.byAuthor.set(authorHex, queue);
    this.bytes += bytes.length;
    for (const [hex, seq] of entry.deviceSequences) this.devicePending.set(hex, Math.max(seq, this.devicePending.get(hex) ?? -1));
    return tx;
  }

  /** Every check that does not need the pending transactions' effects. Returns batch sequences. */
  private admit(tx: DecodedTx, pendingFromAuthor: number, nowMs: number): Map<string, number> {
    const state = this.chain.state();
    const head = this.chain.head();
    const ctx: TxContext = {
      chainId: this.chain.chainId,
      height: head.height + 1,
      timeMs: Math.max(nowMs, head.header.timeMs + 1),
      params: state.params(),
      validators: state.validators(),
      keys: this.chain.keys,
      signaturesVerified: () => false,
    };
    checkEnvelope(state, tx, ctx, state.account(tx.authorId).nonce + pendingFromAuthor);
    const sequences = new Map<string, number>();
    if (tx.body.kind === "readingBatch") {
      const checked = checkReadingBatch(state, tx, tx.body, { ...ctx, signaturesVerified: () => false }, { pendingSequence: (hex) => this.devicePending.get(hex) });
      for (const [hex, { device }] of checked.devices) sequences.set(hex, device.lastSequence);
    } else if (tx.body.kind === "validatorEvidence") {
      // Evidence that cannot apply is refused with its reason whatever the author has pending.
      checkValidatorEvidence(state, tx.body.evidence, ctx.chainId, ctx.validators);
    } else if (pendingFromAuthor === 0) {
      // The author's first pending transaction applies to the committed state exactly as it will
      // in the next block: a trial run gives the precise reason now (signatures already checked).
      applyTx(state.fork(), tx, { ...ctx, signaturesVerified: () => true });
    }
    return sequences;
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
    this.devicePending.clear();
    for (const e of this.entries.values()) {
      for (const [hex, seq] of e.deviceSequences) this.devicePending.set(hex, Math.max(seq, this.devicePending.get(hex) ?? -1));
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
