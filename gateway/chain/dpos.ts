// Delegated proof of stake (BRIEF §7, clause 7.1.1.2): stakeholders bond tokens and back up to
// `votesMax` candidates with their whole stake (approval voting, as in EOS/Lisk DPoS); at each
// epoch boundary the `validatorsMax` candidates with the most backing become the next validator set.
//
// The rule, exactly (elect):
//   - an epoch is `epochBlocks` heights: epoch e holds heights e·E+1 .. (e+1)·E; genesis sets epoch 0;
//   - at the end of the block at height (e+1)·E the set for epoch e+1 is elected from the state as it
//     stands after that block's transactions; no other block changes the set;
//   - electable: a registered candidate whose own account has staked ≥ candidateStakeMin, with
//     votes > 0, and not jailed (jailedUntilEpoch ≤ e+1);
//   - order: votes descending, then candidate id ascending (bytewise); the first K are elected;
//   - if nobody is electable the current set continues (the chain never stops for want of validators);
//   - the outgoing set is archived under `validators/epoch/<e>` for good, so every epoch's set stays
//     provable against later state roots (provenance and light clients check old certificates with it).
//     A set's hash (headers' validatorSetHash) covers its epoch number: the same members in two epochs
//     are two sets, and a certificate of one epoch's set never vouches for a header of another epoch.
// Governance votes of the outgoing set are settled at the same boundary, before the election.
import { invariant, invariantFailed } from "./errors.ts";
import { governableParams, withParam, type ChainParams } from "./params.ts";
import type { Validator, ValidatorSet } from "./records.ts";
import type { State } from "./state.ts";

/** The reward pool's account id. No key hashes to sixteen zero bytes, so nobody can spend from it. */
export const rewardPoolId = new Uint8Array(16);

export function epochOfHeight(height: number, epochBlocks: number): number {
  return height === 0 ? 0 : Math.floor((height - 1) / epochBlocks);
}

export function isEpochEnd(height: number, epochBlocks: number): boolean {
  return height > 0 && height % epochBlocks === 0;
}

/** PBFT quorum over n validators: 2f+1 with f = ⌊(n−1)/3⌋, i.e. more than two thirds. */
export function quorumOf(n: number): number {
  return Math.floor((2 * n) / 3) + 1;
}

/** Adds `delta` (possibly negative) to the backing of each candidate in `candidates`. */
export function addVoteWeight(state: State, candidates: Uint8Array[], delta: bigint): void {
  if (delta === 0n) return;
  for (const id of candidates) {
    const c = state.candidate(id);
    invariant(c !== undefined, "a vote names a candidate that does not exist");
    c.votes += delta;
    state.setCandidate(id, c);
  }
}

export function electValidators(state: State, params: ChainParams, epoch: number): Validator[] {
  const electable: Validator[] = [];
  for (const id of state.candidateIds()) {
    const c = state.candidate(id);
    invariant(c !== undefined, "candidate list names a missing candidate");
    if (c.votes <= 0n || c.jailedUntilEpoch > epoch) continue;
    if (state.account(id).staked < params.candidateStakeMin) continue;
    electable.push({ id, publicKey: c.publicKey, power: c.votes });
  }
  electable.sort((a, b) => (a.power === b.power ? Buffer.compare(a.id, b.id) : a.power > b.power ? -1 : 1));
  return electable.slice(0, params.validatorsMax);
}

/**
 * Settles governance: a parameter takes a value when a quorum of the outgoing validators voted
 * for exactly that value. Votes of accounts no longer in the set do not count. All votes clear.
 */
function settleGovernance(state: State, params: ChainParams, set: ValidatorSet): ChainParams {
  const votes = state.governance();
  if (votes.length === 0) return params;
  const members = new Set(set.validators.map((v) => Buffer.from(v.id).toString("hex")));
  const need = quorumOf(set.validators.length);
  let next = params;
  for (const name of governableParams) {
    const tally = new Map<bigint, number>();
    for (const v of votes) {
      if (v.name === name && members.has(Buffer.from(v.validatorId).toString("hex"))) tally.set(v.value, (tally.get(v.value) ?? 0) + 1);
    }
    for (const [value, count] of tally) if (count >= need) next = withParam(next, name, value);
  }
  state.setGovernance([]);
  if (next !== params) state.setParams(next);
  return next;
}

/** End of an epoch's last block: settle governance, elect the next set. Returns the set in force next. */
export function endEpoch(state: State, height: number): ValidatorSet {
  const current = state.validators();
  const params = settleGovernance(state, state.params(), current);
  const epoch = height / params.epochBlocks;
  if (!(Number.isInteger(epoch) && epoch === current.epoch + 1)) invariantFailed(`epoch boundary at height ${height} does not follow epoch ${current.epoch}`);
  const elected = electValidators(state, params, epoch);
  const next: ValidatorSet = { epoch, validators: elected.length > 0 ? elected : current.validators };
  state.setPreviousValidators(current);
  state.setEpochValidators(current);
  state.setValidators(next);
  return next;
}

/** Start of a block: stakes whose unbonding period ends here return to their balances. */
export function releaseUnbonding(state: State, height: number): void {
  const entries = state.unbonding(height);
  for (const [id, amount] of entries) {
    const a = state.account(id);
    invariant(a.unbonding >= amount, "unbonding entry larger than the account's unbonding total");
    a.unbonding -= amount;
    a.balance += amount;
    state.setAccount(id, a);
  }
  if (entries.length) state.setUnbonding(height, []);
}

/** End of a block: the proposer earns the block's fees and the block reward while the pool lasts. */
export function payProposer(state: State, proposer: Uint8Array, fees: bigint, params: ChainParams): void {
  const pool = state.account(rewardPoolId);
  const reward = pool.balance < params.blockReward ? pool.balance : params.blockReward;
  if (reward > 0n) {
    pool.balance -= reward;
    state.setAccount(rewardPoolId, pool);
  }
  if (reward + fees > 0n) {
    const a = state.account(proposer);
    a.balance += reward + fees;
    state.setAccount(proposer, a);
  }
  const c = state.candidate(proposer);
  if (c) {
    c.blocksProduced += 1;
    state.setCandidate(proposer, c);
  }
}

/**
 * Jailing hook for the consensus layer's evidence (double votes, equivocation): the candidate
 * cannot be elected before `untilEpoch`. It keeps its seat in the current epoch; the consensus
 * layer decides whether its votes still count meanwhile.
 */
export function jailCandidate(state: State, id: Uint8Array, untilEpoch: number): boolean {
  const c = state.candidate(id);
  if (!c) return false;
  c.jailedUntilEpoch = Math.max(c.jailedUntilEpoch, untilEpoch);
  state.setCandidate(id, c);
  return true;
}
