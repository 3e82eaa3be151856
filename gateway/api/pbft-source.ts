// PBFT as the API's consensus source (consensus-source.ts), over what a running consensus node
// reports: its height and round (ConsensusNode.status() in gateway/consensus/node.ts fits the
// structural type below, so this file does not depend on that module's internals).
//
//   const consensus = new PbftConsensusSource(node, chain);
//   startConsensusNode({ ..., onDecided: (h) => consensus.finalized(h) });
//
// The proposer follows PbftCore's rotation: validators[(height + round) mod n] of the set deciding
// the height (the chain's current set, in election order). Round changes are counted as this
// source observes them (at each snapshot and each finalization), so a round that came and went
// between two observations is missed: exact counts and per-validator votes need PbftCore to
// expose them (then fill `votes` and `roundChangesTotal` from there).
import type { ConsensusSnapshot, ConsensusSource, ConsensusVote } from "./consensus-source.ts";

export interface PbftNodeStatus {
  status(): { height: number; round: number; peers: readonly string[]; decidedByConsensus: number; decidedBySync: number; votes?: ConsensusVote[]; behindRetention?: { height: number; peer: string } };
}

export interface PbftChainView {
  validators(): { validators: readonly { id: Uint8Array }[] };
}

export class PbftConsensusSource implements ConsensusSource {
  private readonly listeners = new Set<(height: number) => void>();
  private observed = { height: -1, round: 0 };
  private roundChanges = 0;

  constructor(
    private readonly node: PbftNodeStatus,
    private readonly chain: PbftChainView,
  ) {}

  /** Call from the node's onDecided, after the block is committed. */
  finalized(height: number): void {
    this.observe();
    for (const l of this.listeners) l(height);
  }

  private observe(): ReturnType<PbftNodeStatus["status"]> {
    const s = this.node.status();
    if (s.height === this.observed.height && s.round > this.observed.round) this.roundChanges += s.round - this.observed.round;
    else if (s.height !== this.observed.height) this.roundChanges += s.round; // rounds the new height already went through
    this.observed = { height: s.height, round: s.round };
    return s;
  }

  snapshot(): ConsensusSnapshot {
    const s = this.observe();
    const set = this.chain.validators().validators;
    const proposer = set.length ? set[(s.height + s.round) % set.length].id : null;
    return {
      mode: "pbft",
      height: s.height,
      round: s.round,
      proposer,
      votes: s.votes ?? [],
      roundChangesTotal: this.roundChanges,
      decidedTotal: s.decidedByConsensus + s.decidedBySync,
      peersConnected: s.peers.length,
      behindRetention: s.behindRetention,
    };
  }

  onFinalized(listener: (height: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
