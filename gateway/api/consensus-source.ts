// What the API and the metrics need to know about consensus, as one small interface the gateway
// fills from whichever engine runs: the single-validator producer (below) or PBFT
// (gateway/consensus). Everything the chain itself knows (finalized height, validator set, stake,
// certificates) is read from the chain; this carries only the engine's live state.
//
//   const consensus = new SoloConsensusSource(chain, identity.id);
//   new SoloProducer({ ..., onBlock: (b) => consensus.finalized(b.head.height) });
//   createApiServer({ chain, mempool, consensus });
//
// A PBFT adapter implements `snapshot()` from PbftCore's height, round and vote sets, and calls its
// listeners from the "decided" action once the block is committed.

export interface ConsensusVote {
  validatorId: Uint8Array;
  /** Seen this validator's PREPARE (solo: none) and COMMIT for the height and round in progress. */
  prepare: boolean;
  commit: boolean;
}

export interface ConsensusSnapshot {
  mode: "solo" | "pbft";
  /** The height being decided: the finalized head + 1. */
  height: number;
  /** PBFT round at that height; each round change is a view change. Solo: 0. */
  round: number;
  /** Validator proposing at (height, round), when known. */
  proposer: Uint8Array | null;
  /** Votes seen at (height, round). */
  votes: ConsensusVote[];
  /** Since this process started. */
  roundChangesTotal: number;
  decidedTotal: number;
  /** Validator peers connected (PBFT); undefined for solo. */
  peersConnected?: number;
  /** Sync stalled: a peer pruned `height`, the next block this node needs (PBFT; docs/expiry.md). */
  behindRetention?: { height: number; peer: string };
}

export interface ConsensusSource {
  snapshot(): ConsensusSnapshot;
  /**
   * Calls `listener` right after each block is committed. Optional: without it the API polls the
   * chain head (options.headPollMs), which delays SSE events and skews finality latency by up to
   * one poll interval.
   */
  onFinalized?(listener: (height: number) => void): () => void;
}

/** The single-validator producer as a consensus source: this gateway proposes and decides alone. */
export class SoloConsensusSource implements ConsensusSource {
  private readonly listeners = new Set<(height: number) => void>();
  private decided = 0;

  constructor(
    private readonly chain: { head(): { height: number } },
    private readonly validatorId: Uint8Array,
  ) {}

  /** Call from SoloProducer's onBlock. */
  finalized(height: number): void {
    this.decided++;
    for (const l of this.listeners) l(height);
  }

  snapshot(): ConsensusSnapshot {
    return { mode: "solo", height: this.chain.head().height + 1, round: 0, proposer: this.validatorId, votes: [], roundChangesTotal: 0, decidedTotal: this.decided };
  }

  onFinalized(listener: (height: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
