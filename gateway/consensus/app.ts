// What consensus needs from the chain, and nothing more. The chain core (gateway/chain/,
// gateway/storage/) implements it through chain-adapter.ts; the simulator implements it in memory
// (test/consensus/sim/app.ts). Every method is synchronous and deterministic in the chain's state
// and its arguments: consensus stays a pure function of its inputs.
import type { Certificate } from "../../shared/consensus-messages.ts";
import type { ValidatorSetInfo } from "./validators.ts";
import type { ConsensusEvidence } from "./evidence.ts";

export interface BlockRef {
  height: number;
  hash: Uint8Array;
  /**
   * The block's header time (its proposer's clock). With it, the next proposer keeps blocks one
   * interval apart from this time rather than from when it saw the commit (core.ts proposeAtMs).
   */
  timeMs?: number;
}

export type Verdict = { ok: true } | { ok: false; code: string; message: string };

export interface ProposeArgs {
  height: number;
  round: number;
  /** Validator id (16 bytes) of the proposer: this node. */
  proposer: Uint8Array;
  /** The proposer's clock, for the header's time. */
  timeMs: number;
  /** Double votes seen and not yet on chain; the chain includes what it can. */
  evidence: readonly ConsensusEvidence[];
}

export interface ConsensusApp {
  readonly chainId: string;
  /**
   * True when the chain already holds this evidence or would refuse it: the evidence pool drops it
   * after each decision. Optional; without it evidence leaves the pool only by age.
   */
  evidenceSettled?(e: ConsensusEvidence): boolean;
  /** Last committed block (height 0: genesis). */
  tip(): BlockRef;
  /** The validators deciding `height`; consensus asks only for tip()+1. */
  validatorsFor(height: number): ValidatorSetInfo;
  /** Target time between blocks (a chain parameter). */
  blockIntervalMs(): number;
  /** A new block at tip()+1. */
  propose(args: ProposeArgs): { block: Uint8Array; hash: Uint8Array };
  /** The block's hash (its header's), or undefined when the bytes are not a block. Cheap. */
  blockHash(block: Uint8Array): Uint8Array | undefined;
  /**
   * Whether `block` may be decided at tip()+1: link, header, transactions and state root.
   * `proposer` is the validator id the header must name, or null for a block re-proposed from an
   * earlier round (its header names the round that first proposed it, which a quorum already
   * checked; the header must still name a validator of this height). `nowMs` is this node's
   * clock, for the header-time drift rule.
   */
  validate(block: Uint8Array, args: { height: number; proposer: Uint8Array | null; nowMs: number }): Verdict;
  /**
   * Makes the decided block and its commit certificate durable (one SQLite transaction) and
   * applies it. The certificate was checked by the caller. Throws only on corruption.
   */
  commit(block: Uint8Array, certificate: Certificate): void;
  /** A committed block and its certificate, for block sync; undefined when not stored. */
  committed(height: number): { block: Uint8Array; certificate: Certificate } | undefined;
  /** Whether this node pruned block `height`'s body (docs/expiry.md): sync answers syncPruned. */
  pruned?(height: number): boolean;
}
