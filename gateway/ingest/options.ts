// Ingest defaults in one place; every limit is named with its unit.

export interface IngestOptions {
  /** Replay window per device, in sequence numbers (cf. RFC 8613 §7.4.1, RFC 4303 §3.4.3). ≤ 64. */
  replayWindowSize: number;
  /** Token bucket per device: sustained readings per second and burst size. */
  rateReadingsPerS: number;
  rateBurst: number;
  /** A group commit closes after this many readings (≤ shared/attestation batchReadingsMax)… */
  batchReadingsMax: number;
  /** …or this long after its first reading. 0 = at the end of the current event-loop turn. */
  commitDelayMs: number;
  /** Readings waiting for a commit beyond which new ones get 5.03 with Max-Age (back-pressure). */
  queueReadingsMax: number;
  /** Devices whose replay window and rate bucket are held in memory (LRU; reloaded from the store). */
  devicesCachedMax: number;
  /** How often misbehaviour counters are flushed when no reading carries them to disk. */
  countersFlushMs: number;
}

export const ingestDefaults: IngestOptions = {
  replayWindowSize: 64,
  rateReadingsPerS: 10,
  rateBurst: 20,
  batchReadingsMax: 1024,
  commitDelayMs: 0,
  queueReadingsMax: 16_384,
  devicesCachedMax: 100_000,
  countersFlushMs: 1_000,
};
