// Tokens and delegation: transfer, stake, unstake (with its unbonding period), candidate
// registration, votes, and the validators' parameter votes. Stake changes move the backing of the
// candidates the account votes for at once; the validator set itself moves only at epoch
// boundaries (dpos.ts).
import { toHex } from "../../shared/ed25519.ts";
import type { DecodedTx, TxBody } from "../../shared/tx.ts";
import type { TxContext } from "./context.ts";
import { addVoteWeight } from "./dpos.ts";
import { reject } from "./errors.ts";
import { candidatesMax, unbondingPerHeightMax } from "./options.ts";
import { governableParams, isParamName, paramInRange, paramRanges } from "./params.ts";
import type { State } from "./state.ts";

type Body<K extends TxBody["kind"]> = Extract<TxBody, { kind: K }>;

export function applyTransfer(state: State, tx: DecodedTx, body: Body<"transfer">): void {
  const from = state.account(tx.authorId);
  if (from.balance < body.amount) reject("TX_INSUFFICIENT_FUNDS", `balance ${from.balance} is below the transfer of ${body.amount}`);
  from.balance -= body.amount;
  state.setAccount(tx.authorId, from);
  const to = state.account(body.to);
  to.balance += body.amount;
  state.setAccount(body.to, to);
}

export function applyStake(state: State, tx: DecodedTx, body: Body<"stake">): void {
  const a = state.account(tx.authorId);
  if (a.balance < body.amount) reject("TX_INSUFFICIENT_FUNDS", `balance ${a.balance} is below the stake of ${body.amount}`);
  a.balance -= body.amount;
  a.staked += body.amount;
  state.setAccount(tx.authorId, a);
  addVoteWeight(state, a.votes, body.amount);
}

export function applyUnstake(state: State, tx: DecodedTx, body: Body<"unstake">, ctx: TxContext): void {
  const a = state.account(tx.authorId);
  if (a.staked < body.amount) reject("STAKE_INSUFFICIENT", `staked ${a.staked} is below the unstake of ${body.amount}`);
  // Released at the start of a later block, never this one: at least one block of lock.
  const releaseHeight = ctx.height + Math.max(1, ctx.params.unbondingBlocks);
  const entries = state.unbonding(releaseHeight);
  if (entries.length >= unbondingPerHeightMax) reject("UNBONDING_FULL", `too many unstakes mature at height ${releaseHeight}; retry in the next block`);
  entries.push([tx.authorId, body.amount]);
  state.setUnbonding(releaseHeight, entries);
  a.staked -= body.amount;
  a.unbonding += body.amount;
  state.setAccount(tx.authorId, a);
  addVoteWeight(state, a.votes, -body.amount);
}

export function applyRegisterCandidate(state: State, tx: DecodedTx, body: Body<"registerCandidate">, ctx: TxContext): void {
  if (state.candidate(tx.authorId)) reject("CANDIDATE_EXISTS", `gateway ${toHex(tx.authorId)} is already a candidate`);
  const staked = state.account(tx.authorId).staked;
  if (staked < ctx.params.candidateStakeMin) reject("CANDIDATE_STAKE_LOW", `a candidate needs ${ctx.params.candidateStakeMin} staked, it has ${staked}; stake first`);
  const ids = state.candidateIds();
  if (ids.length >= candidatesMax) reject("CANDIDATES_FULL", `the chain holds at most ${candidatesMax} candidates`);
  ids.push(tx.authorId);
  ids.sort(Buffer.compare);
  state.setCandidateIds(ids);
  state.setCandidate(tx.authorId, { publicKey: tx.author, endpoint: body.endpoint, votes: 0n, jailedUntilEpoch: 0, blocksProduced: 0, registeredHeight: ctx.height });
}

export function applyVote(state: State, tx: DecodedTx, body: Body<"vote">, ctx: TxContext): void {
  if (body.candidates.length > ctx.params.votesMax) reject("VOTES_TOO_MANY", `a voter backs at most ${ctx.params.votesMax} candidates, got ${body.candidates.length}`);
  for (const id of body.candidates) if (!state.candidate(id)) reject("CANDIDATE_UNKNOWN", `candidate ${toHex(id)} is not registered`);
  const a = state.account(tx.authorId);
  addVoteWeight(state, a.votes, -a.staked);
  addVoteWeight(state, body.candidates, a.staked);
  a.votes = body.candidates;
  state.setAccount(tx.authorId, a);
}

export function applyParamVote(state: State, tx: DecodedTx, body: Body<"paramVote">, ctx: TxContext): void {
  if (!ctx.validators.validators.some((v) => Buffer.compare(v.id, tx.authorId) === 0)) reject("NOT_VALIDATOR", "only a validator of the current epoch may vote on parameters");
  const name = body.name;
  if (!isParamName(name) || !governableParams.includes(name)) reject("PARAM_UNKNOWN", `"${name}" is not a governable parameter; governable: ${governableParams.join(", ")}`);
  if (!paramInRange(name, body.value)) reject("PARAM_OUT_OF_RANGE", `${name} must be within ${paramRanges[name].min}..${paramRanges[name].max}`);
  const votes = state.governance().filter((g) => !(g.name === name && Buffer.compare(g.validatorId, tx.authorId) === 0));
  votes.push({ name, validatorId: tx.authorId, value: body.value });
  votes.sort((x, y) => (x.name === y.name ? Buffer.compare(x.validatorId, y.validatorId) : x.name < y.name ? -1 : 1));
  state.setGovernance(votes);
}
