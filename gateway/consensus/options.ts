// Defaults of the consensus subsystem, in one place. These are node-local limits and timings, not
// consensus rules: two nodes with different values still agree on every block, they only wait
// differently. Every queue, window and buffer has its maximum here.

export interface ConsensusOptions {
  /** Round timeout before doubling; round 0 also waits the block interval first. */
  roundTimeoutBaseMs: number;
  /** Growing timeouts stop growing here, so a long outage does not leave rounds hours long. */
  roundTimeoutMaxMs: number;
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
}

export const consensusDefaults: ConsensusOptions = {
  roundTimeoutBaseMs: 1000,
  roundTimeoutMaxMs: 30_000,
  resendIntervalMs: 1000,
  roundsAheadMax: 64,
  roundsKeptMax: 64,
  futureHeightsMax: 2,
  futureMessagesPerHeightMax: 1024,
  knownBlocksMax: 16,
  blockBytesMax: 8 << 20,
  evidencePoolMax: 256,
};

/** Round r's timeout: base·2^r, capped; round 0 first waits for the proposer's block interval. */
export function roundTimeoutMs(o: ConsensusOptions, round: number, blockIntervalMs: number): number {
  const grown = Math.min(o.roundTimeoutMaxMs, o.roundTimeoutBaseMs * 2 ** Math.min(round, 30));
  return round === 0 ? blockIntervalMs + grown : grown;
}
