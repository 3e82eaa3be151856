// Block execution: the state transition as a pure function of (state before, block inputs).
//
//   begin:  stakes whose unbonding ends at this height return to balances
//   txs:    each applied or rejected whole (apply-tx.ts); an applied one has a result
//           (reading-outcome.ts: each reading's outcome, or a body's soft failure, and the
//           contract runs with their gas and events); contract runs share blockGasMax
//   end:    the proposer is paid (fees + reward); at an epoch's last block, governance settles and
//           the next validator set is elected (dpos.ts)
//   root:   the block's state writes go into the sparse Merkle tree as one batch
//
// In "build" mode (a proposer assembling a block) rejected transactions are left out and reported;
// in "validate" mode (a block from elsewhere, or a replay) any rejection makes the block invalid.
// Nothing is written: the result carries the writes for the store to commit in one transaction.
import { sha256 } from "../../shared/ed25519.ts";
import type { DecodedTx } from "../../shared/tx.ts";
import { applyTx } from "./apply-tx.ts";
import { blockVersion, txRootOf, type BlockHeader } from "./block.ts";
import { certificateHash } from "./certificate.ts";
import { RecordedReadings, type IndexedReading, type KeyCache, type TxContext } from "./context.ts";
import type { LogNode } from "./device-log.ts";
import { endEpoch, isEpochEnd, payProposer, releaseUnbonding } from "./dpos.ts";
import { BlockError, TxRejected } from "./errors.ts";
import { keyHash, valueHash } from "./keys.ts";
import type { ChainParams } from "./params.ts";
import { encodeTxResult, resultsRootOf } from "./reading-outcome.ts";
import type { ValidatorSet } from "./records.ts";
import { smtApply, type SmtNodeReader, type SmtUpdate, type SmtWrites } from "./smt.ts";
import { newContractEnv } from "../contracts/apply-contracts.ts";
import { encodeValidatorSet, State, type StateReader, type StateWrites } from "./state.ts";

/** The digest the chain recorded for a device's sequence (the readings table, written with each block). */
export interface RecordedReadingReader {
  recordedReading(deviceId: Uint8Array, sequence: number): Uint8Array | undefined;
}

export interface ExecutionInput {
  mode: "build" | "validate";
  height: number;
  previousHash: Uint8Array;
  timeMs: number;
  proposer: Uint8Array;
  txs: DecodedTx[];
  lastCommit: Uint8Array | null;
  keys: KeyCache;
  signaturesVerified: (tx: DecodedTx) => boolean;
}

export interface Execution {
  header: BlockHeader;
  /** Transactions in the block, in order (build mode drops the rejected ones). */
  txs: DecodedTx[];
  rejected: { tx: DecodedTx; error: TxRejected }[];
  /** Readings recorded, per included transaction (same order as `txs`). */
  readings: IndexedReading[][];
  /** Each included transaction's encoded result (same order as `txs`), under the header's resultsRoot. */
  results: Uint8Array[];
  stateWrites: StateWrites;
  nodeWrites: SmtWrites;
  /** Device log nodes appended by the block's readings. */
  logNodes: LogNode[];
  /** The set in force for the next block, and the parameters after this one. */
  validators: ValidatorSet;
  params: ChainParams;
  /** Gas the block's contract runs used (≤ params.blockGasMax). */
  gasUsed: number;
}

export function validatorSetHash(s: ValidatorSet): Uint8Array {
  return sha256(encodeValidatorSet(s));
}

/** Keeps a block within the parameters' size limits; in build mode, the rest waits for the next block. */
function fitsBlock(params: ChainParams, count: number, bytes: number): boolean {
  return count <= params.blockTxsMax && bytes <= params.blockBytesMax;
}

export function executeBlock(store: StateReader & SmtNodeReader & RecordedReadingReader, input: ExecutionInput): Execution {
  const state = new State(store);
  const params = state.params();
  const validators = state.validators();
  const { chainId } = state.chainInfo();
  releaseUnbonding(state, input.height);
  const contracts = newContractEnv(input.previousHash);
  const ctx: TxContext = { chainId, height: input.height, timeMs: input.timeMs, params, validators, keys: input.keys, signaturesVerified: input.signaturesVerified, recorded: new RecordedReadings((id, seq) => store.recordedReading(id, seq)), contracts };
  const txs: DecodedTx[] = [];
  const readings: IndexedReading[][] = [];
  const results: Uint8Array[] = [];
  const rejected: Execution["rejected"] = [];
  const logNodes: LogNode[] = [];
  let fees = 0n;
  let bytes = 0;
  for (const [i, tx] of input.txs.entries()) {
    if (!fitsBlock(params, txs.length + 1, bytes + tx.bytes.length)) {
      if (input.mode === "validate") throw new BlockError("BLOCK_TOO_LARGE", `block ${input.height} exceeds ${params.blockTxsMax} transactions or ${params.blockBytesMax} bytes`);
      break;
    }
    // A call is admitted only if its whole gas limit fits what the block has left.
    if (tx.body.kind === "callContract" && contracts.gasUsed + tx.body.gasLimit > params.blockGasMax) {
      if (input.mode === "validate") throw new BlockError("BLOCK_GAS", `block ${input.height}, transaction ${i}: gas limit ${tx.body.gasLimit} exceeds the ${params.blockGasMax - contracts.gasUsed} the block has left`);
      break;
    }
    try {
      const effects = applyTx(state, tx, ctx);
      fees += effects.fee;
      bytes += tx.bytes.length;
      txs.push(tx);
      readings.push(effects.readings);
      results.push(encodeTxResult(effects.result));
      for (const n of effects.logNodes) logNodes.push(n);
    } catch (e) {
      if (!(e instanceof TxRejected)) throw e;
      if (input.mode === "validate") throw new BlockError("BLOCK_TX_INVALID", `block ${input.height}, transaction ${i}: ${e.code}: ${e.message}`);
      rejected.push({ tx, error: e });
    }
  }
  payProposer(state, input.proposer, fees, params);
  const next = isEpochEnd(input.height, params.epochBlocks) ? endEpoch(state, input.height) : validators;
  const stateWrites = state.overlay.flush();
  const updates: SmtUpdate[] = [];
  for (const [key, value] of stateWrites) updates.push({ keyHash: keyHash(key), valueHash: value === null ? null : valueHash(value) });
  const { root, writes: nodeWrites } = smtApply(store, updates);
  const header: BlockHeader = {
    version: blockVersion,
    chainId,
    height: input.height,
    previousHash: input.previousHash,
    timeMs: input.timeMs,
    proposer: input.proposer,
    validatorSetHash: validatorSetHash(validators),
    nextValidatorSetHash: validatorSetHash(next),
    txRoot: txRootOf(txs.map((t) => t.bytes)),
    stateRoot: root,
    lastCommitHash: certificateHash(input.lastCommit),
    resultsRoot: resultsRootOf(results),
  };
  return { header, txs, rejected, readings, results, stateWrites, nodeWrites, logNodes, validators: next, params: new State(state.overlay).params(), gasUsed: contracts.gasUsed };
}
