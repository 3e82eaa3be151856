// validatorEvidence (type 11): a validator's double signature goes on chain and the DPoS layer
// jails it from the next epoch (issue 5). The proof itself is the consensus module's rule
// (gateway/consensus/evidence.ts decodeEvidence + verifyEvidence), used here as is so that what
// PBFT pools and what the chain accepts cannot drift apart. The chain adds what only it knows:
//
//   - the key was a validator in the current epoch or the previous one (ctx.validators,
//     state.previousValidators()): older keys, or keys that never validated, prove nothing here;
//   - one offence per (validator, height, round) is applied once: a marker at
//     `validator-evidence/<id>/<height>/<round>` (in the state root) refuses the same double
//     signature again, whichever of its message types (proposal, prepare, commit) it is shown with;
//   - the effect is jailCandidate(id, epoch + 1 + evidenceJailEpochs): the validator keeps its seat
//     until the current epoch ends (sets only change at epoch boundaries), is left out of the
//     election at that boundary and may be elected again the epoch after.
//
// Anyone may submit evidence (the fee as usual); proposers include their pool's evidence
// (gateway/consensus/chain-adapter.ts).
import type { DecodedTx } from "../../shared/tx.ts";
import { accusedId, decodeEvidence, verifyEvidence, type ConsensusEvidence } from "../consensus/evidence.ts";
import type { TxContext } from "./context.ts";
import { jailCandidate } from "./dpos.ts";
import { reject } from "./errors.ts";
import type { ValidatorSet } from "./records.ts";
import type { State } from "./state.ts";

type Body = Extract<DecodedTx["body"], { kind: "validatorEvidence" }>;

/** Epochs a validator with evidence on chain stays out of the validator set. */
export const evidenceJailEpochs = 1;

export interface CheckedEvidence {
  evidence: ConsensusEvidence;
  /** The accused validator's account id. */
  validatorId: Uint8Array;
}

/**
 * Every rule evidence must meet to apply, without writing anything. Throws TxRejected with
 * VALIDATOR_EVIDENCE_MALFORMED, _INVALID, _NOT_VALIDATOR or _DUPLICATE. The proposer calls it to
 * leave out evidence that would be refused.
 */
export function checkValidatorEvidence(state: State, bytes: Uint8Array, chainId: string, validators: ValidatorSet): CheckedEvidence {
  let evidence: ConsensusEvidence;
  try {
    evidence = decodeEvidence(bytes);
  } catch (e) {
    return reject("VALIDATOR_EVIDENCE_MALFORMED", (e as Error).message);
  }
  if (!verifyEvidence(evidence, chainId)) {
    reject("VALIDATOR_EVIDENCE_INVALID", `the two signatures do not prove a double ${evidence.kind} at ${evidence.height}/${evidence.round} on chain "${chainId}" (both must verify and blockHashA < blockHashB)`);
  }
  const named = (s: ValidatorSet | undefined) => s?.validators.some((v) => Buffer.compare(v.publicKey, evidence.publicKey) === 0) ?? false;
  if (!named(validators) && !named(state.previousValidators())) {
    reject("VALIDATOR_EVIDENCE_NOT_VALIDATOR", `key ${Buffer.from(evidence.publicKey).toString("hex")} is not a validator of epoch ${validators.epoch} or the one before`);
  }
  const validatorId = accusedId(evidence);
  const appliedAt = state.validatorEvidenceHeight(validatorId, evidence.height, evidence.round);
  if (appliedAt !== undefined) {
    reject("VALIDATOR_EVIDENCE_DUPLICATE", `evidence against this validator for ${evidence.height}/${evidence.round} was applied at height ${appliedAt}`);
  }
  if (!state.candidate(validatorId)) reject("VALIDATOR_EVIDENCE_NOT_VALIDATOR", "the accused validator has no candidate record to jail");
  return { evidence, validatorId };
}

export function applyValidatorEvidence(state: State, body: Body, ctx: TxContext): void {
  const { evidence, validatorId } = checkValidatorEvidence(state, body.evidence, ctx.chainId, ctx.validators);
  state.setValidatorEvidenceHeight(validatorId, evidence.height, evidence.round, ctx.height);
  jailCandidate(state, validatorId, ctx.validators.epoch + 1 + evidenceJailEpochs);
}
