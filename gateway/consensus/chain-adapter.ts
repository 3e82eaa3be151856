// ConsensusApp over the chain core (gateway/chain/chain.ts): PBFT drives the chain's
// build → validate → commit path through this adapter and nothing else. It keeps the executed
// PendingBlocks of the undecided height, so the block a validator checked is the one it commits
// without executing it twice, and it feeds the mempool (and whoever listens) after each commit.
//
// Certificates need no translation: a PBFT commit certificate (shared/consensus-messages.ts) has
// the chain's encoding and signed message (gateway/chain/certificate.ts), so what consensus
// assembles is what the chain stores and what the next block carries as lastCommit.
import { encodeCertificate, type Certificate } from "../../shared/consensus-messages.ts";
import { decodeCertificate as decodePbftCertificate } from "../../shared/consensus-messages.ts";
import { toHex } from "../../shared/ed25519.ts";
import { checkValidatorEvidence } from "../chain/apply-evidence.ts";
import { decodeBlock, encodeBlock, headerHash, type Block } from "../chain/block.ts";
import type { Chain, ChainHead, PendingBlock } from "../chain/chain.ts";
import { BlockError, ChainError, TxRejected } from "../chain/errors.ts";
import type { NodeSigner } from "../chain/node-signer.ts";
import type { Mempool } from "../chain/mempool.ts";
import type { BlockRef, ConsensusApp, ProposeArgs, Verdict } from "./app.ts";
import { assert, assertFailed } from "./errors.ts";
import type { ValidatorSetInfo } from "./validators.ts";
import { encodeEvidence, type ConsensusEvidence } from "./evidence.ts";
import type { ProposalSizer } from "./proposal-sizer.ts";

export interface ChainAdapterOptions {
  /** Pending blocks kept for the undecided height (proposals of several rounds). */
  pendingMax?: number;
  /**
   * Bytes of transactions this node puts in a block it proposes (≤ the chain's blockBytesMax): what
   * every validator must re-execute within a round timeout, so a backlog in the mempool becomes
   * several timely blocks instead of one that times out round after round.
   */
  proposalBytesMax?: number;
  /**
   * Sizes proposals by how long heights took here (proposal-sizer.ts), under proposalBytesMax. Real
   * nodes only: it reads the wall clock, which a deterministic simulation must not.
   */
  sizer?: ProposalSizer;
  /** Called after each commit, with what the block carried (ingest's markIncluded hooks here). */
  onCommitted?: (head: ChainHead, pending: PendingBlock) => void;
  /**
   * This node's signer (node-signer.ts): pooled consensus evidence becomes validatorEvidence
   * transactions it signs when this node proposes (without it, evidence stays pooled).
   */
  signer?: () => NodeSigner | undefined;
}

export class ChainAdapter implements ConsensusApp {
  readonly chainId: string;
  private readonly pending = new Map<string, PendingBlock>();
  /** Hashes of the block bytes seen last, so a block is decoded once per message, not per check. */
  private readonly hashes = new WeakMap<Uint8Array, { block: Block; hash: Uint8Array } | null>();
  private readonly pendingMax: number;

  constructor(
    readonly chain: Chain,
    readonly mempool: Mempool,
    private readonly options: ChainAdapterOptions = {},
  ) {
    this.chainId = chain.chainId;
    this.pendingMax = options.pendingMax ?? 16;
  }

  tip(): BlockRef {
    const head = this.chain.head();
    return { height: head.height, hash: head.hash, timeMs: head.header.timeMs };
  }

  validatorsFor(height: number): ValidatorSetInfo {
    if (height !== this.chain.head().height + 1) assertFailed(`the chain knows the validators of height ${this.chain.head().height + 1}, not ${height}`);
    return this.chain.validators();
  }

  blockIntervalMs(): number {
    return this.chain.params().blockIntervalMs;
  }

  propose(args: ProposeArgs): { block: Uint8Array; hash: Uint8Array } {
    const head = this.chain.head();
    if (args.height !== head.height + 1) assertFailed(`proposing ${args.height} on head ${head.height}`);
    const params = this.chain.params();
    // Block times strictly increase even if this node's clock lags the parent's proposer.
    const timeMs = Math.max(args.timeMs, head.header.timeMs + 1);
    const bytesMax = Math.min(params.blockBytesMax, this.options.proposalBytesMax ?? 1 << 20, this.options.sizer?.bytesMax() ?? Infinity);
    this.submitEvidence(args.evidence, args.timeMs);
    const txs = this.mempool.take(params.blockTxsMax, bytesMax);
    const { pending } = this.chain.build({ timeMs, proposer: args.proposer, txs });
    this.keep(pending);
    this.options.sizer?.seen(toHex(pending.hash), performance.now());
    const block = encodeBlock(pending.block);
    this.hashes.set(block, { block: pending.block, hash: pending.hash });
    return { block, hash: pending.hash };
  }

  /** Evidence the chain holds already, or would refuse: the pool can drop it. */
  evidenceSettled(e: ConsensusEvidence): boolean {
    const state = this.chain.state();
    try {
      checkValidatorEvidence(state, encodeEvidence(e), this.chainId, state.validators());
      return false;
    } catch (err) {
      if (err instanceof TxRejected) return true;
      throw err;
    }
  }

  /**
   * Pooled evidence the chain does not hold yet becomes validatorEvidence transactions signed
   * through the node signer (one per offence, kept until the chain uses its nonce), so evidence
   * and this node's reading batches share one nonce sequence and one durable outbox. They reach
   * the mempool now and blocks in nonce order like any transaction.
   */
  private submitEvidence(list: readonly ConsensusEvidence[], nowMs: number): void {
    const signer = this.options.signer?.();
    if (!signer || list.length === 0) return;
    const state = this.chain.state();
    const validators = state.validators();
    const submitted = new Set(signer.unconfirmed().map((e) => e.topic));
    for (const e of list) {
      const evidence = encodeEvidence(e);
      let topic: string;
      try {
        const c = checkValidatorEvidence(state, evidence, this.chainId, validators);
        topic = `evidence/${toHex(c.validatorId)}/${e.height}/${e.round}`;
      } catch (err) {
        if (err instanceof TxRejected) continue;
        throw err;
      }
      if (submitted.has(topic)) continue;
      submitted.add(topic);
      signer.submit({ kind: "validatorEvidence", evidence }, { topic }, nowMs);
    }
  }

  blockHash(bytes: Uint8Array): Uint8Array | undefined {
    return this.decoded(bytes)?.hash;
  }

  validate(bytes: Uint8Array, args: { height: number; proposer: Uint8Array | null; nowMs: number }): Verdict {
    const d = this.decoded(bytes);
    if (!d) return { ok: false, code: "BLOCK_MALFORMED", message: "bytes are not a block" };
    if (d.block.header.height !== args.height) return { ok: false, code: "BLOCK_HEIGHT", message: `block is for height ${d.block.header.height}, not ${args.height}` };
    if (args.proposer && Buffer.compare(d.block.header.proposer, args.proposer) !== 0) {
      return { ok: false, code: "BLOCK_PROPOSER", message: `header names proposer ${toHex(d.block.header.proposer)}, the round's is ${toHex(args.proposer)}` };
    }
    if (this.pending.has(toHex(d.hash))) return { ok: true };
    this.options.sizer?.seen(toHex(d.hash), performance.now());
    try {
      this.keep(this.chain.validate(d.block, { nowMs: args.nowMs }));
      return { ok: true };
    } catch (e) {
      if (e instanceof ChainError) return { ok: false, code: e.code, message: e.message };
      throw e;
    }
  }

  commit(bytes: Uint8Array, certificate: Certificate): void {
    const d = this.decoded(bytes);
    assert(d && Buffer.compare(d.hash, certificate.blockHash) === 0, "committing bytes that are not the certified block");
    // A synced block was never validated here: execute it now (no clock check: it is final).
    const pending = this.pending.get(toHex(d.hash)) ?? this.chain.validate(d.block);
    const head = this.chain.commit(pending, encodeCertificate(certificate));
    this.options.sizer?.committed(toHex(d.hash), pending.execution.txs.reduce((n, tx) => n + tx.bytes.length, 0), performance.now());
    this.pending.clear();
    this.mempool.onCommit(pending.execution.txs, []);
    this.options.onCommitted?.(head, pending);
  }

  committed(height: number): { block: Uint8Array; certificate: Certificate } | undefined {
    let stored;
    try {
      stored = this.chain.blockAt(height);
    } catch (e) {
      // Expiry pruned its body (docs/expiry.md): it cannot be re-executed, so it is not served.
      if (e instanceof BlockError && e.code === "BLOCK_PRUNED") return undefined;
      throw e;
    }
    if (!stored || !stored.certificate) return undefined;
    return { block: encodeBlock(stored.block), certificate: decodePbftCertificate(stored.certificate) };
  }

  pruned(height: number): boolean {
    return this.chain.expiry.store.bodyVersion(height) > 0;
  }

  private keep(p: PendingBlock): void {
    if (this.pending.size >= this.pendingMax) this.pending.delete(this.pending.keys().next().value!);
    this.pending.set(toHex(p.hash), p);
  }

  private decoded(bytes: Uint8Array): { block: Block; hash: Uint8Array } | undefined {
    let d = this.hashes.get(bytes);
    if (d === undefined) {
      try {
        const block = decodeBlock(bytes);
        d = { block, hash: headerHash(block.header) };
      } catch (e) {
        if (!(e instanceof BlockError)) throw e;
        d = null;
      }
      this.hashes.set(bytes, d);
    }
    return d ?? undefined;
  }
}
