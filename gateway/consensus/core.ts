// The PBFT state machine (BRIEF §7, clause 7.1.1.3): a pure, deterministic core. Inputs are events
// (start, a message from a peer, a timer firing, the chain advancing under block sync) with the
// time they happen; outputs are actions (persist, broadcast, arm a timer, decided, evidence...).
// No sockets, no clocks, no randomness inside: the simulator and the TCP node drive the same code.
//
// Per height h, in round r (PBFT's view) with proposer validators[(h + r) mod n]:
//   1. the proposer broadcasts PROPOSAL(h, r, block) — in round r > 0 justified by a quorum of
//      ROUND-CHANGE(h, r) and the highest prepared certificate among them (justify.ts);
//   2. a validator that accepts it (signature, proposer, justification, app.validate) sends PREPARE;
//   3. on a quorum of PREPAREs for the accepted block it is "prepared" (persisted) and sends COMMIT;
//   4. a quorum of COMMITs for (h, any round, block) decides: app.commit(block, certificate).
//   On the round timer (growing: options.ts) it sends ROUND-CHANGE(h, r+1) with what it prepared;
//   f+1 round changes above its round pull it forward (so rounds resynchronise after a partition).
// Every action list puts "persist" before the messages it protects (wal.ts).
import type { KeyObject } from "node:crypto";
import { roundChangeSigningBytes, voteSigningBytes, type ConsensusMessage, type Proposal, type RoundChange, type Vote } from "../../shared/consensus-messages.ts";
import { toHex } from "../../shared/ed25519.ts";
import { assert, assertFailed } from "./errors.ts";
import { makeEvidence } from "./evidence.ts";
import { encodeMessage, HeightState } from "./height-state.ts";
import { buildJustification, justificationProblem, preparedClaimValid, roundChangeSignatureValid } from "./justify.ts";
import { roundTimeoutMs } from "./options.ts";
import type { CoreAction, CoreConfig, TimerName } from "./core-types.ts";
import { FutureBuffer } from "./future-buffer.ts";
import { ConsensusValidators } from "./validators.ts";
import type { WalRecord } from "./wal.ts";
import { roundToJoin } from "./votes.ts";

export type { CoreAction, CoreConfig, Signer, TimerName } from "./core-types.ts";

export class PbftCore {
  private hs!: HeightState;
  private out: CoreAction[] = [];
  private dirty = false;
  private nowMs = 0;
  /** Timeout doublings carried across heights while heights need round changes (options.timeoutCarryMax). */
  private timeoutCarry = 0;
  private readonly future: FutureBuffer;
  private readonly chainId: string;
  private readonly selfHex: string | undefined;

  constructor(private readonly cfg: CoreConfig) {
    this.chainId = cfg.app.chainId;
    this.selfHex = cfg.signer ? toHex(cfg.signer.id) : undefined;
    this.future = new FutureBuffer(cfg.options.futureHeightsMax, cfg.options.futureMessagesPerHeightMax);
  }

  get height(): number {
    return this.hs.height;
  }
  get round(): number {
    return this.hs.round;
  }
  get validators(): ConsensusValidators {
    return this.hs.validators;
  }
  /** Who has prepared and committed at the height and round in progress (operators' view). */
  votesInProgress(): { validatorId: Uint8Array; prepare: boolean; commit: boolean }[] {
    const { votes, validators, round } = this.hs;
    return validators.ids.map((validatorId, i) => ({ validatorId, prepare: votes.has("prepare", round, i), commit: votes.has("commit", round, i) }));
  }

  start(nowMs: number, restored?: WalRecord): CoreAction[] {
    this.nowMs = nowMs;
    this.enterHeight(restored);
    return this.flush();
  }

  /** The chain advanced without this core (block sync): move to its new tip. */
  resync(nowMs: number): CoreAction[] {
    this.nowMs = nowMs;
    if (this.cfg.app.tip().height >= this.hs.height) this.enterHeight();
    return this.flush();
  }

  receive(from: string, message: ConsensusMessage, nowMs: number): CoreAction[] {
    this.nowMs = nowMs;
    const h = this.hs.height;
    if (message.height < h) this.out.push({ kind: "peerBehind", peer: from, height: message.height });
    else if (message.height > h) {
      this.out.push({ kind: "peerAhead", peer: from, height: message.height });
      this.future.add(message, h);
    }
    else this.dispatch(message);
    return this.flush();
  }

  timer(timer: TimerName, height: number, round: number, nowMs: number): CoreAction[] {
    this.nowMs = nowMs;
    const hs = this.hs;
    if (height !== hs.height || hs.decided) return this.flush();
    if (timer === "resend") {
      this.resend();
      this.arm("resend", nowMs + this.cfg.options.resendIntervalMs);
    } else if (round === hs.round) {
      if (timer === "propose") this.proposeNew();
      else this.roundChange(hs.round + 1);
    }
    return this.flush();
  }

  // ---- transitions ---------------------------------------------------------------------------

  private enterHeight(restored?: WalRecord): void {
    const tip = this.cfg.app.tip();
    const height = tip.height + 1;
    const validators = new ConsensusValidators(this.cfg.app.validatorsFor(height));
    const self = this.selfHex === undefined ? -1 : validators.indexOf(this.selfHex);
    this.hs = new HeightState(height, validators, self, this.nowMs, this.cfg.options);
    if (restored && restored.height === height) this.hs.restore(restored, (b) => this.cfg.app.blockHash(b));
    this.cfg.log.debug({ height, round: this.hs.round, self, n: validators.n, epoch: validators.set.epoch }, "height started");
    this.armRound();
    this.arm("resend", this.nowMs + this.cfg.options.resendIntervalMs);
    for (const message of this.future.take(height)) if (this.hs.height === height && !this.hs.decided) this.dispatch(message);
  }

  /** `justified`: entered on a proposal that carries a quorum of round changes for `round`. */
  private enterRound(round: number, justified = false): void {
    if (!(round > this.hs.round)) assertFailed(`round ${round} does not move forward from ${this.hs.round}`);
    this.hs.round = round;
    this.hs.roundStartedMs = this.nowMs;
    this.hs.quorumInRound = justified;
    this.hs.prune();
    this.dirty = true; // the round is part of the record: never go back to vote in an older one
    this.armRound();
    this.noteRoundQuorum();
  }

  /** The round really starts when a quorum is in it: the timer restarts then, for everyone alike. */
  private noteRoundQuorum(): void {
    const hs = this.hs;
    if (hs.quorumInRound || hs.votes.roundChangesFor(hs.round).length < hs.validators.quorum) return;
    hs.quorumInRound = true;
    hs.roundStartedMs = this.nowMs;
    this.arm("round", this.nowMs + roundTimeoutMs(this.cfg.options, hs.round, this.cfg.app.blockIntervalMs(), this.timeoutCarry));
  }

  private armRound(): void {
    const hs = this.hs;
    const interval = this.cfg.app.blockIntervalMs();
    this.arm("round", hs.roundStartedMs + roundTimeoutMs(this.cfg.options, hs.round, interval, this.timeoutCarry));
    if (hs.round === 0 && this.isProposer(0) && !hs.sentIn(0).proposal) this.arm("propose", this.proposeAtMs(interval));
    if (hs.round > 0) this.maybeProposeJustified();
  }

  /**
   * When round 0's proposer proposes: one block interval after the parent's header time, not after
   * this node saw the parent commit, so the time a height takes to decide counts towards the
   * interval (bench:net: validators otherwise sat idle for a whole interval after every commit,
   * and a saturated network made a block every interval + decision time). Never later than the
   * interval after the height started; never before it started.
   */
  private proposeAtMs(intervalMs: number): number {
    const started = this.hs.roundStartedMs;
    const parentMs = this.cfg.app.tip().timeMs;
    if (parentMs === undefined) return started + intervalMs;
    return Math.min(started + intervalMs, Math.max(started, parentMs + intervalMs));
  }

  private arm(timer: TimerName, atMs: number): void {
    this.out.push({ kind: "timer", timer, atMs, height: this.hs.height, round: this.hs.round });
  }

  private isProposer(round: number): boolean {
    return this.hs.self >= 0 && this.hs.validators.proposer(this.hs.height, round) === this.hs.self;
  }

  private dispatch(m: ConsensusMessage): void {
    const hs = this.hs;
    if (hs.decided) return;
    if (m.round > hs.round + this.cfg.options.roundsAheadMax || m.round < hs.round - this.cfg.options.roundsKeptMax) return this.drop(m, "PBFT_ROUND_RANGE");
    if (m.validator >= hs.validators.n) return this.drop(m, "PBFT_NOT_VALIDATOR");
    if (m.type === "proposal") this.onProposal(m);
    else if (m.type === "roundChange") this.onRoundChange(m);
    else this.onVote(m);
  }

  private drop(m: ConsensusMessage, code: string, detail?: string): void {
    this.cfg.log.debug({ height: m.height, round: m.round, type: m.type, validator: m.validator, code, detail }, "consensus message dropped");
  }

  private key(validator: number): KeyObject {
    return this.hs.validators.keys[validator];
  }

  // ---- proposals ------------------------------------------------------------------------------

  private onProposal(p: Proposal): void {
    const hs = this.hs;
    if (p.validator !== hs.validators.proposer(hs.height, p.round)) return this.drop(p, "PBFT_WRONG_PROPOSER");
    if (!this.cfg.check(this.key(p.validator), voteSigningBytes(this.chainId, "proposal", p.height, p.round, p.blockHash), p.signature)) return this.drop(p, "PBFT_BAD_SIGNATURE");
    const first = hs.seenProposals.get(p.round);
    if (first) {
      if (Buffer.compare(first.blockHash, p.blockHash) !== 0) this.evidence("proposal", p.round, p.validator, first, p);
      return;
    }
    const hash = this.cfg.app.blockHash(p.block);
    if (!hash || Buffer.compare(hash, p.blockHash) !== 0) return this.drop(p, "PBFT_BLOCK_HASH");
    hs.seenProposals.set(p.round, p);
    hs.rememberBlock(p.blockHash, p.block);
    if (p.round < hs.round) return this.retryPendingDecision(); // too late to vote; its block may still be decided
    const problem = justificationProblem({ chainId: this.chainId, height: hs.height, validators: hs.validators, check: this.cfg.check }, p.round, p.blockHash, p.justification);
    if (problem) return this.drop(p, "PBFT_BAD_JUSTIFICATION", problem);
    if (p.round > hs.round) this.enterRound(p.round, true); // justified: a quorum already moved there
    // A re-proposed block keeps the header of the round that first proposed it, proposer included;
    // a quorum prepared it, so the honest among them checked that proposer then.
    const proposer = p.justification?.prepared ? null : hs.validators.ids[p.validator];
    const verdict = this.cfg.app.validate(p.block, { height: hs.height, proposer, nowMs: this.nowMs });
    if (!verdict.ok) {
      hs.invalid.add(toHex(p.blockHash));
      this.cfg.log.warn({ height: hs.height, round: p.round, proposer: hs.validators.idHex[p.validator], code: verdict.code, reason: verdict.message }, "proposed block refused");
      return;
    }
    this.accept(p);
  }

  private accept(p: Proposal): void {
    this.hs.accepted.set(p.round, p);
    this.hs.acceptedAtMs ??= this.nowMs;
    this.sendVote("prepare", p.round, p.blockHash);
    this.maybePrepared();
    this.retryPendingDecision();
  }

  private proposeNew(): void {
    const hs = this.hs;
    if (!this.isProposer(hs.round) || hs.sentIn(hs.round).proposal) return;
    const { block, hash } = this.cfg.app.propose({ height: hs.height, round: hs.round, proposer: this.cfg.signer!.id, timeMs: this.nowMs, evidence: this.cfg.pendingEvidence() });
    this.sendProposal(block, hash, null);
  }

  /** Round r > 0: propose once a quorum of round changes for r is in. */
  private maybeProposeJustified(): void {
    const hs = this.hs;
    if (hs.round === 0 || !this.isProposer(hs.round) || hs.sentIn(hs.round).proposal) return;
    const built = buildJustification(hs.votes.roundChangesFor(hs.round), hs.validators.quorum);
    if (!built) return;
    if (!built.reuse) {
      const { block, hash } = this.cfg.app.propose({ height: hs.height, round: hs.round, proposer: this.cfg.signer!.id, timeMs: this.nowMs, evidence: this.cfg.pendingEvidence() });
      return this.sendProposal(block, hash, built.justification);
    }
    const block = built.reuse.preparedBlock ?? hs.block(built.reuse.preparedHash!);
    assert(block, "a checked prepared round change carries its block");
    this.sendProposal(block, built.reuse.preparedHash!, built.justification);
  }

  private sendProposal(block: Uint8Array, blockHash: Uint8Array, justification: Proposal["justification"]): void {
    const hs = this.hs;
    const signature = this.cfg.signer!.sign(voteSigningBytes(this.chainId, "proposal", hs.height, hs.round, blockHash));
    const p: Proposal = { type: "proposal", height: hs.height, round: hs.round, blockHash, validator: hs.self, signature, block, justification };
    hs.sentIn(hs.round).proposal = this.broadcast(p);
    hs.seenProposals.set(p.round, p);
    hs.rememberBlock(blockHash, block);
    this.cfg.log.debug({ height: hs.height, round: hs.round, block: toHex(blockHash), reproposed: justification?.prepared != null }, "proposed");
    this.accept(p);
  }

  // ---- votes ----------------------------------------------------------------------------------

  private onVote(v: Vote): void {
    if (!this.cfg.check(this.key(v.validator), voteSigningBytes(this.chainId, v.type, v.height, v.round, v.blockHash), v.signature)) return this.drop(v, "PBFT_BAD_SIGNATURE");
    const added = this.hs.votes.add(v);
    if (added.kind === "conflict") return this.evidence(v.type, v.round, v.validator, added.previous, v);
    if (added.kind === "duplicate") return;
    if (v.type === "prepare") this.maybePrepared();
    else this.maybeDecide(v.round, v.blockHash);
  }

  private sendVote(type: Vote["type"], round: number, blockHash: Uint8Array): void {
    const hs = this.hs;
    if (hs.self < 0 || hs.sentIn(round)[type]) return;
    const signature = this.cfg.signer!.sign(voteSigningBytes(this.chainId, type, hs.height, round, blockHash));
    const v: Vote = { type, height: hs.height, round, blockHash, validator: hs.self, signature };
    if (hs.votes.add(v).kind !== "added") assertFailed(`this node already voted ${type} in ${hs.height}/${round}`);
    hs.sentIn(round)[type] = this.broadcast(v);
  }

  /** Step 3: a quorum of prepares for the block accepted in this round. */
  private maybePrepared(): void {
    const hs = this.hs;
    const p = hs.accepted.get(hs.round);
    if (!p || (hs.prepared && hs.prepared.round >= hs.round)) return;
    const certificate = hs.votes.certificate("prepare", hs.round, p.blockHash, hs.validators.quorum, hs.validators.ids);
    if (!certificate) return;
    hs.prepared = { round: hs.round, blockHash: p.blockHash, block: p.block, certificate };
    hs.preparedAtMs ??= this.nowMs;
    this.dirty = true;
    this.sendVote("commit", hs.round, p.blockHash);
    this.maybeDecide(hs.round, p.blockHash);
  }

  /** Step 4: a quorum of commits for (round, block) decides the height. */
  private maybeDecide(round: number, blockHash: Uint8Array): void {
    const hs = this.hs;
    if (hs.decided || hs.votes.count("commit", round, blockHash) < hs.validators.quorum) return;
    const block = hs.block(blockHash);
    if (!block) {
      if (!hs.pendingDecision) this.out.push({ kind: "needBlock", height: hs.height, blockHash });
      hs.pendingDecision = { round, blockHash };
      return;
    }
    const certificate = hs.votes.certificate("commit", round, blockHash, hs.validators.quorum, hs.validators.ids);
    assert(certificate, "a counted commit quorum yields a certificate");
    this.cfg.app.commit(block, certificate);
    const tip = this.cfg.app.tip();
    if (!(tip.height === hs.height && Buffer.compare(tip.hash, blockHash) === 0)) assertFailed(`app did not commit ${hs.height}/${toHex(blockHash)}`);
    hs.decided = true;
    this.timeoutCarry = round > 0 ? Math.min(this.cfg.options.timeoutCarryMax, this.timeoutCarry + 1) : Math.max(0, this.timeoutCarry - 1);
    // Where the height's time went, from its start on this node: a proposal accepted (validated), a
    // prepare quorum, a commit quorum (the log line itself comes after the block is stored).
    const phases = { acceptedMs: since(hs.startedMs, hs.acceptedAtMs), preparedMs: since(hs.startedMs, hs.preparedAtMs), decidedMs: this.nowMs - hs.startedMs };
    this.cfg.log.info({ height: hs.height, round, block: toHex(blockHash), ...phases }, "finalized");
    this.out.push({ kind: "decided", height: hs.height, round, blockHash });
    this.enterHeight();
  }

  private retryPendingDecision(): void {
    const d = this.hs.pendingDecision;
    if (d && this.hs.block(d.blockHash)) this.maybeDecide(d.round, d.blockHash);
  }

  // ---- round changes --------------------------------------------------------------------------

  private roundChange(round: number): void {
    this.enterRound(round);
    this.sendRoundChange();
    this.maybeProposeJustified();
  }

  private sendRoundChange(): void {
    const hs = this.hs;
    if (hs.self < 0 || hs.sentIn(hs.round).roundChange) return;
    const p = hs.prepared;
    const unsigned = { height: hs.height, round: hs.round, preparedRound: p?.round ?? null, preparedHash: p?.blockHash ?? null };
    const signature = this.cfg.signer!.sign(roundChangeSigningBytes(this.chainId, unsigned));
    const rc: RoundChange = { type: "roundChange", ...unsigned, validator: hs.self, signature, preparedCertificate: p?.certificate ?? null, preparedBlock: p?.block ?? null };
    hs.votes.addRoundChange(rc);
    hs.sentIn(hs.round).roundChange = this.broadcast(rc);
    this.noteRoundQuorum();
    this.cfg.log.debug({ height: hs.height, round: hs.round, preparedRound: unsigned.preparedRound }, "round change");
  }

  private onRoundChange(rc: RoundChange): void {
    const hs = this.hs;
    const ctx = { chainId: this.chainId, height: hs.height, validators: hs.validators, check: this.cfg.check };
    if (rc.round === 0) return this.drop(rc, "PBFT_ROUND_RANGE");
    if (!roundChangeSignatureValid(ctx, rc)) return this.drop(rc, "PBFT_BAD_SIGNATURE");
    if (!preparedClaimValid(ctx, rc)) return this.drop(rc, "PBFT_BAD_CERTIFICATE");
    if (rc.preparedBlock) {
      const hash = this.cfg.app.blockHash(rc.preparedBlock);
      if (!hash || Buffer.compare(hash, rc.preparedHash!) !== 0) return this.drop(rc, "PBFT_BLOCK_HASH");
    }
    if (!hs.votes.addRoundChange(rc)) return;
    if (rc.round === hs.round) this.noteRoundQuorum();
    if (rc.preparedBlock) hs.rememberBlock(rc.preparedHash!, rc.preparedBlock);
    this.retryPendingDecision();
    if (hs.decided) return;
    // f+1 validators beyond our round include an honest one: join the lowest round they all passed.
    const join = roundToJoin(hs.votes.highestRoundChanges(), hs.round, hs.validators.weakQuorum);
    if (join !== undefined) this.roundChange(join);
    else if (rc.round === hs.round) this.maybeProposeJustified();
  }

  // ---- plumbing -------------------------------------------------------------------------------

  private broadcast(message: ConsensusMessage): Uint8Array {
    const bytes = encodeMessage(message);
    this.dirty = true;
    this.out.push({ kind: "broadcast", bytes, message });
    return bytes;
  }

  /** Own messages again: a lossy link or a peer that restarted must still reach a quorum. */
  private resend(): void {
    for (const bytes of this.hs.resendable()) this.out.push({ kind: "broadcast", bytes });
  }

  private evidence(kind: "proposal" | Vote["type"], round: number, validator: number, a: { blockHash: Uint8Array; signature: Uint8Array }, b: { blockHash: Uint8Array; signature: Uint8Array }): void {
    const hs = this.hs;
    const evidence = makeEvidence({ height: hs.height, round, kind, publicKey: hs.validators.set.validators[validator].publicKey, a: { blockHash: a.blockHash, signature: a.signature }, b: { blockHash: b.blockHash, signature: b.signature } });
    this.cfg.log.warn({ height: hs.height, round, kind, validator: hs.validators.idHex[validator] }, "double signature: evidence recorded");
    this.out.push({ kind: "evidence", evidence });
  }

  private flush(): CoreAction[] {
    const out = this.out;
    this.out = [];
    if (this.dirty && !this.hs.decided) out.unshift({ kind: "persist", record: this.hs.record() });
    this.dirty = false;
    return out;
  }
}

/** Milliseconds from `from` to `at`, or undefined when `at` never happened. */
function since(from: number, at: number | undefined): number | undefined {
  return at === undefined ? undefined : at - from;
}
