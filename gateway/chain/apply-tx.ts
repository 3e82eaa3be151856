// One transaction, applied to a fork of the block's state: the envelope checks every kind shares
// (signature, nonce, fee), then the kind's own transition. Any TxRejected leaves the fork
// unmerged, so a rejected transaction changes nothing, not even its author's nonce.
//
// Except where a body's failure depends on the state at the time (not on its bytes) and the
// transaction is one a node signs on its own (reading batches, validator evidence): there the
// envelope applies (fee paid, nonce used) and the failure is the transaction's result. Otherwise a
// batch or evidence overtaken by events (a device revoked, evidence another validator submitted
// first) would hold its nonce for ever and wedge every later transaction of that node.
//
// And where a contract call's run stops (out of gas, trap...): the call is paid for (fee and
// nonce) and its result records the failure, but its run's state changes are dropped
// (gateway/contracts/apply-contracts.ts), so a caller cannot make validators work for free.
import { applySetRetention } from "./retention.ts";
import { verifyTxSignature, type DecodedTx, type TxBody } from "../../shared/tx.ts";
import { applyLiftQuarantine } from "./quarantine.ts";
import { applyEnroll, applyReport, applyRevoke } from "./apply-devices.ts";
import { applyValidatorEvidence } from "./apply-evidence.ts";
import { applyPublishRelease, applyStartRollout, applyStopRollout } from "./apply-firmware.ts";
import { applyReadingBatch } from "./apply-readings.ts";
import { applyCall, applyDeploy, gasCost } from "../contracts/apply-contracts.ts";
import { applyParamVote, applyRegisterCandidate, applyStake, applyTransfer, applyUnstake, applyVote } from "./apply-staking.ts";
import type { IndexedReading, TxContext, TxEffects } from "./context.ts";
import type { LogNode } from "./device-log.ts";
import { reject, TxRejected } from "./errors.ts";
import type { ChainParams } from "./params.ts";
import { appliedResult, type TxResult } from "./reading-outcome.ts";
import type { State } from "./state.ts";

/**
 * The least fee a transaction must offer: a base fee, plus a per-reading fee for batches, a
 * per-byte fee for contract code, and a call's whole gas limit at gasPerToken.
 */
export function minimumFee(body: TxBody, params: ChainParams): bigint {
  const readings = body.kind === "readingBatch" ? BigInt(body.readings.length) : 0n;
  const code = body.kind === "deployContract" ? params.codeByteFee * BigInt(body.code.length) : 0n;
  const gas = body.kind === "callContract" ? gasCost(body.gasLimit, params) : 0n;
  return params.txFee + params.readingFee * readings + code + gas;
}

/** Checks shared by the mempool and the state machine; returns nothing, throws TxRejected. */
export function checkEnvelope(state: State, tx: DecodedTx, ctx: TxContext, expectedNonce: number): void {
  if (tx.nonce !== expectedNonce) reject("TX_BAD_NONCE", `nonce ${tx.nonce} is not the account's next nonce ${expectedNonce}`);
  const fee = minimumFee(tx.body, ctx.params);
  if (tx.fee < fee) reject("TX_FEE_TOO_LOW", `fee ${tx.fee} is below the minimum ${fee} for this transaction`);
  if (!ctx.signaturesVerified(tx) && !verifyTxSignature(tx, ctx.keys.get(tx.author), ctx.chainId)) {
    reject("TX_BAD_SIGNATURE", `the author's signature does not verify for chain "${ctx.chainId}"`);
  }
  const balance = state.account(tx.authorId).balance;
  if (balance < tx.fee) reject("TX_INSUFFICIENT_FUNDS", `balance ${balance} cannot pay the fee ${tx.fee}`);
}

/**
 * Applies `tx` to a fork of `state` and merges it on success. Returns the fee paid (for the
 * proposer) and the readings recorded (for the derived index). Throws TxRejected otherwise.
 */
export function applyTx(state: State, tx: DecodedTx, ctx: TxContext): TxEffects {
  const fork = state.fork();
  const author = fork.account(tx.authorId);
  checkEnvelope(fork, tx, ctx, author.nonce);
  author.nonce += 1;
  author.balance -= tx.fee;
  fork.setAccount(tx.authorId, author);
  let readings: IndexedReading[] = [];
  let logNodes: LogNode[] = [];
  let result: TxResult = appliedResult;
  let gasFees = 0n;
  const body = tx.body;
  switch (body.kind) {
    case "transfer":
      applyTransfer(fork, tx, body);
      break;
    case "stake":
      applyStake(fork, tx, body);
      break;
    case "unstake":
      applyUnstake(fork, tx, body, ctx);
      break;
    case "registerCandidate":
      applyRegisterCandidate(fork, tx, body, ctx);
      break;
    case "vote":
      applyVote(fork, tx, body, ctx);
      break;
    case "enrollDevice":
      applyEnroll(fork, tx, body, ctx);
      break;
    case "revokeDevice":
      applyRevoke(fork, tx, body, ctx);
      break;
    case "readingBatch": {
      const applied = applyReadingBatch(fork, tx, body, ctx);
      ({ readings, logNodes } = applied);
      result = applied.runs.length ? { failure: null, readings: applied.outcomes, runs: applied.runs } : { failure: null, readings: applied.outcomes };
      gasFees = applied.gasFees;
      break;
    }
    case "reportDevice":
      applyReport(fork, tx, body, ctx);
      break;
    case "paramVote":
      applyParamVote(fork, tx, body, ctx);
      break;
    case "validatorEvidence":
      result = { failure: softFailure(fork, (sub) => applyValidatorEvidence(sub, body, ctx), evidenceSoftCodes), readings: [] };
      break;
    case "deployContract":
      contractsEnabled(ctx);
      applyDeploy(fork, tx, body, ctx);
      break;
    case "callContract": {
      contractsEnabled(ctx);
      const run = applyCall(fork, tx, body, ctx);
      result = { failure: run.failure, readings: [], runs: [run] };
      break;
    }
    case "publishRelease":
      applyPublishRelease(fork, tx, body, ctx);
      break;
    case "startRollout":
      applyStartRollout(fork, tx, body, ctx);
      break;
    case "stopRollout":
      applyStopRollout(fork, tx, body, ctx);
      break;
    case "liftQuarantine":
      applyLiftQuarantine(fork, tx, body, ctx);
      break;
    case "setRetention":
      applySetRetention(fork, tx, body);
      break;
    default:
      return reject("TX_UNKNOWN_TYPE", `transaction kind ${(body as { kind: string }).kind} has no transition`);
  }
  state.merge(fork);
  return { fee: tx.fee + gasFees, readings, logNodes, result };
}

function contractsEnabled(ctx: TxContext): void {
  if (!ctx.params.contractsEnabled) reject("CONTRACTS_DISABLED", "this chain does not run contracts: its genesis must set the parameter contractsEnabled to 1");
}

/** Evidence rejections that depend on the state, not on the evidence: already applied, no longer a validator. */
const evidenceSoftCodes = new Set<string>(["VALIDATOR_EVIDENCE_DUPLICATE", "VALIDATOR_EVIDENCE_NOT_VALIDATOR"]);

/** Runs `apply` on a fork of `state`; merges it on success, returns the code of a soft failure. */
function softFailure(state: State, apply: (s: State) => void, soft: Set<string>): string | null {
  const sub = state.fork();
  try {
    apply(sub);
  } catch (e) {
    if (e instanceof TxRejected && soft.has(e.code)) return e.code;
    throw e;
  }
  state.merge(sub);
  return null;
}
