// The chain service: the one object consensus, the producer, the mempool and the API talk to.
// Its surface follows the consensus cycle:
//
//   build(...)      proposer: assemble a block from candidate transactions  → PendingBlock
//   validate(block) validator: check a proposed or synced block             → PendingBlock
//   commit(p, cert) everyone: write a finalized block and its state changes in one transaction
//
// A PendingBlock holds the block's whole effect in memory; nothing reaches SQLite before commit,
// so a proposal that consensus abandons costs nothing to drop.
import { toHex } from "../../shared/ed25519.ts";
import { decodeTx, TxError, type DecodedTx } from "../../shared/tx.ts";
import type { ChainStore } from "../storage/chain-store.ts";
import { decodeBody, decodeHeader, encodeBody, encodeHeader, headerHash, type Block, type BlockHeader } from "./block.ts";
import { decodeCertificate, verifyCertificate } from "./certificate.ts";
import { sharedKeyCache, type KeyCache } from "./context.ts";
import { isEpochEnd } from "./dpos.ts";
import { BlockError, invariant, invariantFailed } from "./errors.ts";
import { executeBlock, type Execution } from "./execute.ts";
import { Expiry } from "./expiry.ts";
import { genesisBlock, type GenesisFile } from "./genesis.ts";
import { indexRows } from "./index-rows.ts";
import { keyHash, valueHash } from "./keys.ts";
import type { ChainParams } from "./params.ts";
import { encodeBlockResults } from "./reading-outcome.ts";
import type { ValidatorSet } from "./records.ts";
import { recoverOnOpen } from "./recover.ts";
import { smtProve, type SmtProof } from "./smt-proof.ts";
import { State } from "./state.ts";

export interface ChainHead {
  height: number;
  hash: Uint8Array;
  header: BlockHeader;
}

export interface PendingBlock {
  block: Block;
  hash: Uint8Array;
  execution: Execution;
  /** Hash of the head this block was executed on; commit refuses it on any other head. */
  parentHash: Uint8Array;
}

export interface BuildInput {
  timeMs: number;
  proposer: Uint8Array;
  txs: DecodedTx[];
  /** Certificate of the head; defaults to the one stored with it. */
  lastCommit?: Uint8Array | null;
}

export interface ChainOptions {
  keys?: KeyCache;
  /** Signature cache (the mempool's): true for transactions whose signatures were verified. */
  signaturesVerified?: (tx: DecodedTx) => boolean;
}

export class Chain {
  private headCache: ChainHead;
  readonly keys: KeyCache;
  /** Prunes expired readings after each commit (expiry.ts); local storage, never state. */
  readonly expiry: Expiry;
  signaturesVerified: (tx: DecodedTx) => boolean;

  private constructor(
    readonly store: ChainStore,
    readonly chainId: string,
    options: ChainOptions,
  ) {
    this.keys = options.keys ?? sharedKeyCache;
    this.signaturesVerified = options.signaturesVerified ?? (() => false);
    this.headCache = this.readHead();
    this.expiry = new Expiry(store);
  }

  /**
   * Opens the chain in `store`: writes genesis into an empty store, otherwise checks that the store
   * belongs to this genesis, then recovers (verifies the tip, rebuilds lagging indexes).
   */
  static open(store: ChainStore, genesis: GenesisFile, options: ChainOptions = {}): Chain {
    const g = genesisBlock(genesis);
    const hash = headerHash(g.header);
    const stored = store.block(0);
    if (!stored) {
      const header = encodeHeader(g.header);
      const body = encodeBody({ txs: [], lastCommit: null });
      store.commitBlock({ height: 0, hash, previousHash: g.header.previousHash, timeMs: g.header.timeMs, header, body, certificate: null, results: encodeBlockResults([]), stateRoot: g.header.stateRoot, stateWrites: g.stateWrites, nodeWrites: g.nodeWrites, logNodes: [], index: { txs: [], readings: [], contracts: { runs: [], events: [] } } });
    } else if (Buffer.compare(stored.hash, hash) !== 0) {
      throw new BlockError("GENESIS_MISMATCH", `${store.path} holds chain ${toHex(stored.hash)} but this genesis file gives ${toHex(hash)}; use the network's genesis file or another data directory`);
    }
    recoverOnOpen(store);
    return new Chain(store, genesis.chainId, options);
  }

  private readHead(): ChainHead {
    const tip = this.store.tip();
    invariant(tip !== undefined, "chain store has no blocks after open");
    const b = this.store.block(tip.height)!;
    return { height: tip.height, hash: tip.hash, header: decodeHeader(b.header) };
  }

  head(): ChainHead {
    return this.headCache;
  }

  /** The committed state, read-only by convention (a fresh overlay each call). */
  state(): State {
    return new State(this.store);
  }

  /** Resolves a compact reading's short kid against the committed state (shared/reading.ts decodeReading). */
  readonly resolveKid = (kid: Uint8Array): Uint8Array | undefined => this.state().deviceIdOfKid(kid);

  params(): ChainParams {
    return this.state().params();
  }

  /** The set in force for the next block. */
  validators(): ValidatorSet {
    return this.state().validators();
  }

  /** The set that certified the head (differs from validators() right after an epoch boundary). */
  headCertifiers(): ValidatorSet {
    const s = this.state();
    return isEpochEnd(this.headCache.height, s.params().epochBlocks) ? s.previousValidators()! : s.validators();
  }

  private execute(mode: "build" | "validate", timeMs: number, proposer: Uint8Array, txs: DecodedTx[], lastCommit: Uint8Array | null): Execution {
    const head = this.headCache;
    return executeBlock(this.store, { mode, height: head.height + 1, previousHash: head.hash, timeMs, proposer, txs, lastCommit, keys: this.keys, signaturesVerified: this.signaturesVerified });
  }

  /** Proposer side: executes candidate transactions on the head and keeps those that apply. */
  build(input: BuildInput): { pending: PendingBlock; rejected: Execution["rejected"] } {
    const head = this.headCache;
    if (!(input.timeMs > head.header.timeMs)) invariantFailed(`block time ${input.timeMs} must be after the head's ${head.header.timeMs}`);
    const lastCommit = input.lastCommit !== undefined ? input.lastCommit : head.height === 0 ? null : this.store.block(head.height)!.certificate;
    const execution = this.execute("build", input.timeMs, input.proposer, input.txs, lastCommit);
    const block: Block = { header: execution.header, txs: execution.txs.map((t) => t.bytes), lastCommit };
    return { pending: { block, hash: headerHash(block.header), execution, parentHash: head.hash }, rejected: execution.rejected };
  }

  /**
   * Validator side: checks a block against the head and re-executes it. `nowMs` (this node's clock)
   * bounds how far ahead the proposer's time may be; leave it out when replaying finalized blocks.
   */
  validate(block: Block, options: { nowMs?: number } = {}): PendingBlock {
    const head = this.headCache;
    const h = block.header;
    const params = this.params();
    const fail = (code: string, why: string): never => {
      throw new BlockError(code, `block ${h.height}: ${why}`);
    };
    if (h.chainId !== this.chainId) fail("BLOCK_WRONG_CHAIN", `chain "${h.chainId}" is not this node's "${this.chainId}"`);
    if (h.height !== head.height + 1) fail("BLOCK_HEIGHT", `expected height ${head.height + 1}`);
    if (Buffer.compare(h.previousHash, head.hash) !== 0) fail("BLOCK_PARENT", "does not link to this node's head");
    if (h.timeMs <= head.header.timeMs) fail("BLOCK_TIME", `time ${h.timeMs} is not after the parent's ${head.header.timeMs}`);
    if (options.nowMs !== undefined && h.timeMs > options.nowMs + params.blockTimeDriftMaxMs) fail("BLOCK_TIME_FUTURE", `time ${h.timeMs} is more than ${params.blockTimeDriftMaxMs} ms ahead of this node's clock`);
    if (!this.validators().validators.some((v) => Buffer.compare(v.id, h.proposer) === 0)) fail("BLOCK_PROPOSER", `proposer ${toHex(h.proposer)} is not a validator`);
    this.checkLastCommit(block, fail);
    const txs = block.txs.map((bytes, i) => {
      try {
        return decodeTx(bytes);
      } catch (e) {
        if (e instanceof TxError) return fail("BLOCK_TX_INVALID", `transaction ${i}: ${e.code}: ${e.message}`);
        throw e;
      }
    });
    const execution = this.execute("validate", h.timeMs, h.proposer, txs, block.lastCommit);
    if (Buffer.compare(execution.header.stateRoot, h.stateRoot) !== 0) fail("BLOCK_STATE_ROOT", "state root differs from this node's execution (the proposer's state diverged)");
    if (Buffer.compare(encodeHeader(execution.header), encodeHeader(h)) !== 0) fail("BLOCK_HEADER", "header differs from this node's execution (validator sets, roots or commit hash)");
    return { block, hash: headerHash(h), execution, parentHash: head.hash };
  }

  private checkLastCommit(block: Block, fail: (code: string, why: string) => never): void {
    const head = this.headCache;
    if (head.height === 0) {
      if (block.lastCommit !== null) fail("BLOCK_LAST_COMMIT", "the first block carries no certificate (genesis has none)");
      return;
    }
    if (block.lastCommit === null) return fail("BLOCK_LAST_COMMIT", `missing the certificate of block ${head.height}`);
    const cert = decodeCertificate(block.lastCommit);
    if (!verifyCertificate(cert, this.headCertifiers(), this.chainId, head.height, head.hash, this.keys)) {
      fail("BLOCK_LAST_COMMIT", `the certificate of block ${head.height} lacks a quorum of valid signatures`);
    }
  }

  /** Writes a block that consensus finalized, with the certificate this node holds for it. */
  commit(p: PendingBlock, certificate: Uint8Array | null): ChainHead {
    if (Buffer.compare(p.parentHash, this.headCache.hash) !== 0) invariantFailed(`block ${p.block.header.height} was executed on another head`);
    const h = p.block.header;
    const e = p.execution;
    this.store.commitBlock({
      height: h.height,
      hash: p.hash,
      previousHash: h.previousHash,
      timeMs: h.timeMs,
      header: encodeHeader(h),
      body: encodeBody(p.block),
      certificate,
      results: encodeBlockResults(e.results),
      stateRoot: h.stateRoot,
      stateWrites: e.stateWrites,
      nodeWrites: e.nodeWrites,
      logNodes: e.logNodes,
      index: indexRows(e.txs, e.readings, e.results),
    });
    this.headCache = this.readHead();
    invariant(this.headCache.height === h.height && Buffer.compare(this.headCache.hash, p.hash) === 0, "head after commit is not the committed block");
    if (!this.store.options.readonly) this.expiry.schedule(h.timeMs, h.height);
    return this.headCache;
  }

  /** A stored block, decoded; BLOCK_PRUNED when expiry pruned its body (it can no longer be re-executed). */
  blockAt(height: number): { block: Block; certificate: Uint8Array | null } | undefined {
    const b = this.store.block(height);
    if (!b) return undefined;
    if (this.expiry.store.bodyVersion(height) > 0) {
      throw new BlockError("BLOCK_PRUNED", `block ${height} held readings past their retention and its body was pruned here: it cannot be re-executed; a node this far behind joins from a verified snapshot: mote gateway join (docs/expiry.md)`);
    }
    return { block: { header: decodeHeader(b.header), ...decodeBody(b.body) }, certificate: b.certificate };
  }

  /** Proof of a state key's value (or absence) against the head's state root. */
  prove(key: string): { height: number; stateRoot: Uint8Array; value: Uint8Array | undefined; proof: SmtProof } {
    const value = this.store.get(key);
    const proof = smtProve(this.store, keyHash(key));
    invariant(value === undefined ? proof.terminal === null || Buffer.compare(proof.terminal.keyHash, keyHash(key)) !== 0 : Buffer.compare(proof.terminal!.valueHash, valueHash(value)) === 0, "state table and tree disagree");
    return { height: this.headCache.height, stateRoot: this.headCache.header.stateRoot, value, proof };
  }
}

