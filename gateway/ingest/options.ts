// Ingest defaults in one place; every limit is named with its unit.

export interface IngestOptions {
  /** Replay window per device, in sequence numbers (cf. RFC 8613 §7.4.1, RFC 4303 §3.4.3). ≤ 64. */
  replayWindowSize: number;
  /** Token bucket per device: sustained readings per second and burst size. */
  rateReadingsPerS: number;
  rateBurst: number;
  /** A group commit closes after this many readings (≤ shared/attestation batchReadingsMax)… */
  batchReadingsMax: number;
  /**
   * …or this long after its first reading (0 = at the end of the current event-loop turn), or when
   * the chain side needs it durable (group-commit.ts commitBy), whichever comes first…
   */
  commitDelayMs: number;
  /** …or once it holds this many: the commit's fixed cost is then spread thin enough not to wait for more. */
  commitGroupReadings: number;
  /** Readings waiting for a commit beyond which new ones get 5.03 with Max-Age (back-pressure). */
  queueReadingsMax: number;
  /** Devices whose replay window and rate bucket are held in memory (LRU; reloaded from the store). */
  devicesCachedMax: number;
  /** How often misbehaviour counters are flushed when no reading carries them to disk. */
  countersFlushMs: number;
  /**
   * Durable backlog: acknowledged readings no finalized block holds yet (PendingStore.pendingCount)
   * at which new readings get 5.03 BACKLOG_FULL with Max-Age instead of 2.01 (backlog.ts).
   */
  backlogReadingsMax: number;
  /** Max-Age of that 5.03: seconds a device keeps the reading before it tries again. */
  backlogRetryAfterS: number;
  /** The backlog is counted in SQLite at most this often; readings acknowledged meanwhile are added. */
  backlogRefreshMs: number;
  /**
   * On a chain-running gateway, new readings also get 5.03 BACKLOG_BEHIND when those already
   * acknowledged would take longer than this many block intervals to reach the chain at the pace it
   * has been taking them (backlog.ts): overload is shed before it becomes delay.
   */
  backlogWaitBlockIntervals: number;
  /** Health turns "degraded" when the oldest pending reading is older than this. */
  pendingAgeMsMax: number;
  /** …or when readings wait and no block was finalized for this many block intervals (chain stalled). */
  chainStallBlockIntervals: number;
}

export const ingestDefaults: IngestOptions = {
  replayWindowSize: 64,
  rateReadingsPerS: 10,
  rateBurst: 20,
  batchReadingsMax: 1024,
  commitDelayMs: 20,
  commitGroupReadings: 16,
  queueReadingsMax: 16_384,
  devicesCachedMax: 100_000,
  countersFlushMs: 1_000,
  // A few minutes of a 1,000-device fleet at one reading every 5 s: room for a view change or a
  // restarted validator, well short of what would make the pending store slow to drain.
  backlogReadingsMax: 50_000,
  backlogRetryAfterS: 30,
  backlogRefreshMs: 250,
  // Ten blocks: a height that needed a round change, or a block twice the usual size, stays inside it.
  backlogWaitBlockIntervals: 10,
  pendingAgeMsMax: 120_000,
  chainStallBlockIntervals: 10,
};
