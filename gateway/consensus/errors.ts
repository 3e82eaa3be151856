// Typed errors of the consensus subsystem. Operating errors (a bad message from a peer, a WAL
// file that does not parse) carry a stable code and say what to do; they are logged and the
// message is dropped. Broken invariants (our own state contradicting itself) throw
// ConsensusInvariantError and stop the node before it signs anything wrong.
import { MoteError } from "../../shared/errors.ts";

export type ConsensusErrorCode =
  | "PBFT_MALFORMED" // a message that does not decode (shared/consensus-messages.ts)
  | "PBFT_BAD_SIGNATURE" // a signature that does not verify under the validator's key
  | "PBFT_NOT_VALIDATOR" // signer index outside the validator set of that height
  | "PBFT_WRONG_PROPOSER" // a proposal from someone who is not the round's proposer
  | "PBFT_BAD_JUSTIFICATION" // a round > 0 proposal whose round changes do not allow its block
  | "PBFT_BAD_BLOCK" // the application refused the proposed block
  | "PBFT_BLOCK_HASH" // block bytes that do not hash to the hash the message names
  | "PBFT_BAD_CERTIFICATE" // a prepared or commit certificate without a valid quorum
  | "PBFT_ROUND_RANGE" // a round too far ahead of ours to be held
  | "WAL_CORRUPT" // the consensus record on disk does not parse: restore it or delete it (see node.ts)
  | "NODE_CONFIG"; // startConsensusNode was given options it cannot run with

export class ConsensusError extends MoteError {
  declare readonly code: ConsensusErrorCode;
  constructor(code: ConsensusErrorCode, message: string) {
    super(code, message);
  }
}

export class ConsensusInvariantError extends Error {
  override name = "ConsensusInvariantError";
}

export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new ConsensusInvariantError(message);
}

/**
 * assert() where the message costs something to build (numbers, hex): written as
 * `if (!cond) assertFailed(message)`, the message is made only when the condition fails. On hot paths
 * (per reading, per tree node) the eager form built strings and buffers nothing ever read.
 */
export function assertFailed(message: string): never {
  throw new ConsensusInvariantError(message);
}
