// Typed errors of the chain subsystem. Operating errors (bad transactions, bad blocks, bad genesis
// files) carry a stable `code` a caller can branch on and a message that says what to do.
// Programmer errors and corruption (an invariant that cannot be false) throw ChainInvariantError:
// they are not handled, they stop the node before it writes anything wrong.
import { MoteError } from "../../shared/errors.ts";

export class ChainError extends MoteError {}

/**
 * A transaction that cannot be applied to the current state. It changes nothing: the state
 * machine applies each transaction in its own overlay and drops it whole on rejection.
 */
export class TxRejected extends ChainError {
  constructor(code: TxRejectCode, message: string) {
    super(code, message);
  }
}

/** A block that must not be committed (bad link, bad root, an invalid transaction inside...). */
export class BlockError extends ChainError {}

/** A genesis file that cannot start a chain. */
export class GenesisError extends ChainError {}

/** Something that cannot happen unless the code or the disk is wrong. Never caught. */
export class ChainInvariantError extends Error {
  override name = "ChainInvariantError";
}

export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ChainInvariantError(message);
}

/**
 * invariant() where the message costs something to build (numbers, hex): written as
 * `if (!cond) invariantFailed(message)`, the message is made only when the condition fails. On hot paths
 * (per reading, per tree node) the eager form built strings and buffers nothing ever read.
 */
export function invariantFailed(message: string): never {
  throw new ChainInvariantError(message);
}

/** Every reason a transaction is refused, by the mempool or by the state machine. */
export const txRejectCodes = [
  // envelope (shared/tx.ts codes are reused as they are)
  "TX_MALFORMED",
  "TX_TOO_LARGE",
  "TX_VERSION",
  "TX_UNKNOWN_TYPE",
  "TX_BAD_SIGNATURE",
  "TX_BAD_NONCE",
  "TX_FEE_TOO_LOW",
  "TX_INSUFFICIENT_FUNDS",
  "TX_DUPLICATE",
  // accounts and staking
  "STAKE_INSUFFICIENT",
  "CANDIDATE_EXISTS",
  "CANDIDATE_UNKNOWN",
  "CANDIDATE_STAKE_LOW",
  "CANDIDATES_FULL",
  "VOTES_TOO_MANY",
  "UNBONDING_FULL",
  // devices and readings
  "DEVICE_EXISTS",
  "SHORT_KIDS_EXHAUSTED",
  "DEVICE_UNKNOWN",
  "DEVICE_NOT_ACTIVE",
  "DEVICE_NOT_OWNER",
  "DEVICE_NOT_QUARANTINED",
  "QUARANTINE_NOT_LIFTABLE",
  "RETENTION_OUT_OF_RANGE",
  "GATEWAY_NOT_REGISTERED",
  "BATCH_TOO_LARGE",
  "BATCH_BAD_ATTESTATION",
  "EVIDENCE_INVALID",
  // validator evidence (consensus double signatures)
  "VALIDATOR_EVIDENCE_MALFORMED",
  "VALIDATOR_EVIDENCE_INVALID",
  "VALIDATOR_EVIDENCE_NOT_VALIDATOR",
  "VALIDATOR_EVIDENCE_DUPLICATE",
  // contracts (gateway/contracts/): refusals, and the failures a call's result records
  "CONTRACT_CODE_INVALID",
  "CONTRACT_UNKNOWN",
  "CONTRACT_METHOD_UNKNOWN",
  "CONTRACT_GAS_LIMIT",
  "CONTRACT_SUBSCRIPTIONS_FULL",
  "CONTRACT_OUT_OF_GAS",
  "CONTRACT_TRAP",
  "CONTRACT_CALL_DEPTH",
  "CONTRACT_HOST_ERROR",
  "CONTRACT_ABORT",
  "CONTRACTS_DISABLED",
  // firmware releases and rollouts (apply-firmware.ts)
  "FIRMWARE_MANIFEST",
  "FIRMWARE_SIGNATURE",
  "FIRMWARE_RELEASE_EXISTS",
  "FIRMWARE_RELEASES_FULL",
  "FIRMWARE_RELEASE_UNKNOWN",
  "FIRMWARE_TARGET",
  "FIRMWARE_ROLLOUTS_FULL",
  "FIRMWARE_ROLLOUT_UNKNOWN",
  "FIRMWARE_ROLLOUT_STOPPED",
  // governance
  "NOT_VALIDATOR",
  "PARAM_UNKNOWN",
  "PARAM_OUT_OF_RANGE",
  // mempool
  "MEMPOOL_FULL",
  "MEMPOOL_AUTHOR_FULL",
] as const;
export type TxRejectCode = (typeof txRejectCodes)[number];

export function reject(code: TxRejectCode, message: string): never {
  throw new TxRejected(code, message);
}
