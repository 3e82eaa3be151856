// Everything consensus holds about the one undecided height, and how it is rebuilt from the WAL
// after a restart. Bounded: votes and own messages only within the rounds window, blocks up to
// knownBlocksMax, proposals one per round.
import { decodeConsensusMessage, encodeConsensusMessage, type ConsensusMessage, type Proposal } from "../../shared/consensus-messages.ts";
import { toHex } from "../../shared/ed25519.ts";
import type { ConsensusOptions } from "./options.ts";
import type { ConsensusValidators } from "./validators.ts";
import { VoteBook } from "./votes.ts";
import type { PreparedState, WalRecord } from "./wal.ts";
import { assert, assertFailed } from "./errors.ts";

/** What this node signed in one round, kept to resend and to never sign twice. */
export interface SentRound {
  proposal?: Uint8Array;
  prepare?: Uint8Array;
  commit?: Uint8Array;
  roundChange?: Uint8Array;
}

export class HeightState {
  round = 0;
  roundStartedMs: number;
  /**
   * A quorum has been seen in the current round (round 0: by definition). When it forms, the round
   * timer restarts (PBFT §4.5.2 starts the view-change timer on 2f+1 VIEW-CHANGEs), so the nodes
   * of that quorum time the round from about the same moment.
   */
  quorumInRound = true;
  readonly votes: VoteBook;
  /** The first correctly signed proposal seen per round (a second, different one is evidence). */
  readonly seenProposals = new Map<number, Proposal>();
  /** Proposals this node validated and prepared for, per round. */
  readonly accepted = new Map<number, Proposal>();
  readonly blocks = new Map<string, Uint8Array>();
  readonly invalid = new Set<string>();
  prepared: PreparedState | null = null;
  readonly sent = new Map<number, SentRound>();
  decided = false;
  /** A commit quorum whose block this node does not hold yet (asked from block sync). */
  pendingDecision: { round: number; blockHash: Uint8Array } | null = null;
  /** When this node first accepted a proposal, and first saw a prepare quorum, at this height (the "finalized" log's phases). */
  acceptedAtMs: number | undefined;
  preparedAtMs: number | undefined;

  constructor(
    readonly height: number,
    readonly validators: ConsensusValidators,
    /** This node's index in the set, or -1 when it only follows. */
    readonly self: number,
    readonly startedMs: number,
    private readonly options: ConsensusOptions,
  ) {
    this.roundStartedMs = startedMs;
    this.votes = new VoteBook(height);
  }

  sentIn(round: number): SentRound {
    let s = this.sent.get(round);
    if (!s) this.sent.set(round, (s = {}));
    return s;
  }

  rememberBlock(hash: Uint8Array, block: Uint8Array): void {
    const key = toHex(hash);
    if (this.blocks.has(key)) return;
    if (this.blocks.size >= this.options.knownBlocksMax) {
      // Keep the blocks that still matter: the prepared one and the pending decision's.
      for (const k of this.blocks.keys()) {
        if (k !== (this.prepared && toHex(this.prepared.blockHash)) && k !== (this.pendingDecision && toHex(this.pendingDecision.blockHash))) {
          this.blocks.delete(k);
          break;
        }
      }
    }
    this.blocks.set(key, block);
  }

  block(hash: Uint8Array): Uint8Array | undefined {
    return this.blocks.get(toHex(hash));
  }

  /** Drops state outside the rounds window around the current round. */
  prune(): void {
    const low = this.round - this.options.roundsKeptMax;
    const high = this.round + this.options.roundsAheadMax;
    this.votes.prune(low, high);
    for (const m of [this.seenProposals, this.accepted, this.sent] as Map<number, unknown>[]) {
      for (const r of m.keys()) if (r < low || r > high) m.delete(r);
    }
  }

  /** What this node re-sends: everything it signed in the current round, and its commits of other rounds. */
  resendable(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const [round, s] of this.sent) {
      const all = round === this.round ? [s.proposal, s.prepare, s.commit, s.roundChange] : [s.commit];
      for (const m of all) if (m) out.push(m);
    }
    return out;
  }

  record(): WalRecord {
    const sent: Uint8Array[] = [];
    for (const [, s] of [...this.sent].sort((a, b) => a[0] - b[0])) {
      for (const m of [s.proposal, s.prepare, s.commit, s.roundChange]) if (m) sent.push(m);
    }
    return { height: this.height, round: this.round, prepared: this.prepared, sent };
  }

  /** Rebuilds own votes, proposals and round changes from the WAL (they were all valid when signed). */
  restore(r: WalRecord, blockHash: (block: Uint8Array) => Uint8Array | undefined): void {
    if (r.height !== this.height) assertFailed(`restoring height ${r.height} into ${this.height}`);
    this.round = r.round;
    this.quorumInRound = r.round === 0;
    this.prepared = r.prepared;
    if (r.prepared) this.rememberBlock(r.prepared.blockHash, r.prepared.block);
    for (const bytes of r.sent) {
      const m: ConsensusMessage = decodeConsensusMessage(bytes, this.options.blockBytesMax);
      assert(m.height === this.height && m.validator === this.self, "WAL holds a message this node did not sign at this height");
      const s = this.sentIn(m.round);
      if (m.type === "proposal") {
        assert(Buffer.compare(blockHash(m.block) ?? new Uint8Array(), m.blockHash) === 0, "WAL proposal's block does not hash to its hash");
        s.proposal = bytes;
        this.seenProposals.set(m.round, m);
        this.accepted.set(m.round, m); // own proposals are valid by construction
        this.rememberBlock(m.blockHash, m.block);
      } else if (m.type === "roundChange") {
        s.roundChange = bytes;
        this.votes.addRoundChange(m);
      } else {
        s[m.type] = bytes;
        assert(this.votes.add(m).kind === "added", "WAL holds two votes of one kind in one round");
      }
    }
  }
}

export const encodeMessage = encodeConsensusMessage;
