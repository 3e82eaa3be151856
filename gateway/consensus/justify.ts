// Why a block may be proposed in round r > 0 (QBFT's JustifyPrePrepare, Moniz 2020 §4, which is
// PBFT's new-view rule for one height): the proposal carries a quorum of round changes for r and,
// if any of them says it prepared, the prepared certificate of the highest prepared round, whose
// block the proposal must re-propose. A block that may have been committed in an earlier round
// was prepared by a quorum, so it is the highest prepared value in every later quorum of round
// changes: it is carried forward and never replaced.
import type { Certificate, Justification, RoundChange, SignedRoundChange } from "../../shared/consensus-messages.ts";
import { roundChangeSigningBytes } from "../../shared/consensus-messages.ts";
import { checkCertificate, type SignatureCheck } from "../../shared/consensus-certificate.ts";
import type { ConsensusValidators } from "./validators.ts";

export interface JustifyContext {
  chainId: string;
  height: number;
  validators: ConsensusValidators;
  check: SignatureCheck;
}

export function roundChangeSignatureValid(ctx: JustifyContext, rc: SignedRoundChange): boolean {
  if (rc.validator >= ctx.validators.n) return false;
  return ctx.check(ctx.validators.keys[rc.validator], roundChangeSigningBytes(ctx.chainId, rc), rc.signature);
}

/** A round change's prepared claim: certificate for (height, preparedRound, preparedHash), earlier round. */
export function preparedClaimValid(ctx: JustifyContext, rc: RoundChange): boolean {
  if (rc.preparedRound === null) return true;
  const cert = rc.preparedCertificate;
  if (!cert || cert.round !== rc.preparedRound || rc.preparedRound >= rc.round) return false;
  return checkCertificate(cert, "prepare", ctx.chainId, ctx.validators, { height: ctx.height, blockHash: rc.preparedHash! }, ctx.check) === undefined;
}

/** The highest prepared claim among round changes, or undefined if none prepared. */
export function highestPrepared<T extends SignedRoundChange>(rcs: readonly T[]): T | undefined {
  let best: T | undefined;
  for (const rc of rcs) if (rc.preparedRound !== null && (best === undefined || rc.preparedRound > best.preparedRound!)) best = rc;
  return best;
}

/**
 * Checks a round-r proposal's justification for `blockHash`. Returns undefined when justified,
 * else the reason (logged by the caller).
 */
export function justificationProblem(ctx: JustifyContext, round: number, blockHash: Uint8Array, j: Justification | null): string | undefined {
  if (round === 0) return j === null ? undefined : "a round-0 proposal carries no justification";
  if (!j) return "a proposal after round 0 must carry round changes";
  const seen = new Set<number>();
  for (const rc of j.roundChanges) {
    if (rc.height !== ctx.height || rc.round !== round) return `round change for ${rc.height}/${rc.round}, not ${ctx.height}/${round}`;
    if (seen.has(rc.validator)) return `two round changes from validator ${rc.validator}`;
    seen.add(rc.validator);
    if (!roundChangeSignatureValid(ctx, rc)) return `round change of validator ${rc.validator} does not verify`;
  }
  if (seen.size < ctx.validators.quorum) return `${seen.size} round changes, a quorum is ${ctx.validators.quorum}`;
  const best = highestPrepared(j.roundChanges);
  if (!best) return undefined; // nobody in the quorum prepared: any valid block may be proposed
  const cert: Certificate | null = j.prepared;
  if (!cert || cert.round !== best.preparedRound || Buffer.compare(cert.blockHash, best.preparedHash!) !== 0) {
    return `highest prepared round ${best.preparedRound} needs its prepared certificate`;
  }
  if (Buffer.compare(blockHash, cert.blockHash) !== 0) return `round ${best.preparedRound} prepared another block; it must be re-proposed`;
  const problem = checkCertificate(cert, "prepare", ctx.chainId, ctx.validators, { height: ctx.height, blockHash }, ctx.check);
  return problem === undefined ? undefined : `prepared certificate: ${problem}`;
}

/**
 * The proposer's side: given the round changes for `round` it holds (each already checked), picks
 * a quorum and what must be proposed. `reuse` is the prepared round change whose block must be
 * re-proposed, or undefined when the proposer may build a new block.
 */
export function buildJustification(rcs: readonly RoundChange[], quorum: number): { justification: Justification; reuse: RoundChange | undefined } | undefined {
  if (rcs.length < quorum) return undefined;
  // Highest prepared first, so the chosen quorum contains the claim that constrains the proposal.
  const ordered = [...rcs].sort((a, b) => (b.preparedRound ?? -1) - (a.preparedRound ?? -1) || a.validator - b.validator);
  const chosen = ordered.slice(0, quorum);
  const reuse = highestPrepared(chosen);
  const signed = chosen.map(
    (rc): SignedRoundChange => ({ height: rc.height, round: rc.round, validator: rc.validator, signature: rc.signature, preparedRound: rc.preparedRound, preparedHash: rc.preparedHash }),
  );
  return { justification: { roundChanges: signed, prepared: reuse?.preparedCertificate ?? null }, reuse };
}
