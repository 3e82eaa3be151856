// Defaults of the consensus subsystem, in one place. These are node-local limits and timings, not
// consensus rules: two nodes with different values still agree on every block, they only wait
// differently. Every queue, window and buffer has its maximum here.

export interface ConsensusOptions {
  /** Round timeout before doubling; round 0 also waits the block interval first. */
  roundTimeoutBaseMs: number;
  /** Doubling stops here, so a long outage does not leave rounds hours long... */
  roundTimeoutMaxMs: number;
  /**
   * ...but rounds keep growing by this much each: a node that runs ahead of the others by more than
   * a round's length would otherwise never meet them in one round (equal capped rounds keep the
   * lag), and the others, one round behind in shorter rounds, gain this much per round.
   */
  roundTimeoutStepMs: number;
  /** Own messages of the current round are sent again this often: links lose messages on reconnect. */
  resendIntervalMs: number;
  /** Rounds ahead of ours whose messages are held (further ones are dropped). */
  roundsAheadMax: number;
  /** Rounds behind ours whose votes are kept (commit quorums of old rounds still decide). */
  roundsKeptMax: number;
  /** Heights ahead of ours whose messages are buffered until we get there. */
  futureHeightsMax: number;
  /** Buffered messages per future height, all senders together. */
  futureMessagesPerHeightMax: number;
  /** Block bytes kept per height (proposals and prepared blocks of different rounds). */
  knownBlocksMax: number;
  /** Largest block accepted inside a message; the chain's blockBytesMax. */
  blockBytesMax: number;
  /** Evidence held until proposed in a block. */
  evidencePoolMax: number;
  /**
   * Heights that needed a round change carry a longer timeout into the next height (one doubling
   * per such height, up to this many); each height decided in round 0 takes one back. Without it a
   * network too slow for the base timeout fails round 0 of every height.
   */
  timeoutCarryMax: number;
  /** Consensus frames held behind a proposal whose readings are being verified (proposal-preverify.ts). */
  framesQueuedMax: number;
  /**
   * Round 0's proposer holds its proposal up to this long (and at most a quarter of the block
   * interval) while peers' batches that reached it before the proposal time are still being
   * verified: a batch that misses the proposal it was flushed for waits a whole block more.
   */
  proposalAdmissionWaitMs: number;
}

export const consensusDefaults: ConsensusOptions = {
  roundTimeoutBaseMs: 1000,
  roundTimeoutMaxMs: 30_000,
  roundTimeoutStepMs: 7_500,
  resendIntervalMs: 1000,
  roundsAheadMax: 64,
  roundsKeptMax: 64,
  futureHeightsMax: 2,
  futureMessagesPerHeightMax: 1024,
  knownBlocksMax: 16,
  blockBytesMax: 8 << 20,
  evidencePoolMax: 256,
  timeoutCarryMax: 4,
  framesQueuedMax: 4096,
  proposalAdmissionWaitMs: 50,
};

/**
 * Round r's timeout: min(base·2^(r + carry), max), plus step per round past the cap; round 0 first waits for the proposer's block
 * interval. `carry` is the slowness carried over from previous heights (timeoutCarryMax).
 */
export function roundTimeoutMs(o: ConsensusOptions, round: number, blockIntervalMs: number, carry = 0): number {
  const doubled = o.roundTimeoutBaseMs * 2 ** Math.min(round + carry, 30);
  // Past the cap, linear growth: each round a quarter-cap longer (with the defaults), so a lag of
  // a whole round between two groups of nodes closes within a few rounds.
  const roundsPastCap = Math.max(0, round - Math.ceil(Math.log2(o.roundTimeoutMaxMs / o.roundTimeoutBaseMs)));
  const grown = Math.min(o.roundTimeoutMaxMs, doubled) + roundsPastCap * o.roundTimeoutStepMs;
  return round === 0 ? blockIntervalMs + grown : grown;
}
