// The durable backlog: readings this gateway acknowledged (2.01) that no finalized block holds yet,
// the pending store's `pendingCount()`. BRIEF §5: an acknowledged reading is final or still pending,
// and when the chain cannot take more (no quorum, a stall), ingest says 5.03 instead of promising.
// This module owns that limit: the pipeline asks `full()` before it accepts a new reading (never for
// a duplicate of one already acknowledged, which gets its 2.01 again), and health and metrics read
// `status()`.
//
// Counting is cheap on the hot path: count(*) over the partial index runs at most once per
// `backlogRefreshMs`; readings acknowledged in between are added to the last count, so a burst
// cannot overshoot the limit by more than what is being committed at that moment. The chain's
// drain (markIncluded, any connection) is seen at the next refresh: in between the estimate errs
// high, which refuses a little early rather than promising too much.
import { IngestError } from "./errors.ts";
import type { IngestOptions } from "./options.ts";
import type { PendingStore } from "./pending-store.ts";

export type BacklogOptions = Pick<IngestOptions, "backlogReadingsMax" | "backlogRetryAfterS" | "backlogRefreshMs" | "pendingAgeMsMax" | "chainStallBlockIntervals">;

export interface BacklogStatus {
  /** Acknowledged readings not yet on chain (at most backlogRefreshMs old, plus those acknowledged since). */
  pending: number;
  /** backlogReadingsMax: at or above it new readings get 5.03. */
  limit: number;
  full: boolean;
  /** Age of the oldest pending reading, from its receipt by this gateway; null when none waits. */
  oldestPendingAgeMs: number | null;
  /** Acknowledged readings the chain could no longer take through no fault of theirs (markLost). */
  lost: number;
}

/** What a chain-running gateway adds to judge a stall. */
export interface ChainProgress {
  headAgeMs: number;
  blockIntervalMs: number;
}

export class Backlog {
  private counted = 0;
  private countedAtMs = Number.NEGATIVE_INFINITY;
  private addedSinceCount = 0;

  constructor(
    private readonly store: Pick<PendingStore, "pendingCount" | "oldestPendingReceivedAtMs" | "lostCount">,
    readonly options: BacklogOptions,
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** Acknowledged readings waiting for the chain; SQLite is asked at most every backlogRefreshMs. */
  pending(): number {
    const now = this.nowMs();
    if (now - this.countedAtMs >= this.options.backlogRefreshMs) {
      this.counted = this.store.pendingCount();
      this.countedAtMs = now;
      this.addedSinceCount = 0;
    }
    return this.counted + this.addedSinceCount;
  }

  /** `n` more readings were acknowledged (durably stored) since the last count. */
  added(n = 1): void {
    this.addedSinceCount += n;
  }

  /** True when a new reading must be refused: `inflight` are accepted but still being committed. */
  full(inflight: number): boolean {
    return this.pending() + inflight >= this.options.backlogReadingsMax;
  }

  /** The refusal: 5.03 with Max-Age; the device keeps the reading and sends it again later. */
  refusal(): IngestError {
    const { backlogReadingsMax, backlogRetryAfterS } = this.options;
    return new IngestError("BACKLOG_FULL", `${backlogReadingsMax} readings wait for the chain; keep this one, retry in ${backlogRetryAfterS} s`, backlogRetryAfterS);
  }

  status(): BacklogStatus {
    const pending = this.pending();
    const oldest = this.store.oldestPendingReceivedAtMs();
    return {
      pending,
      limit: this.options.backlogReadingsMax,
      full: pending >= this.options.backlogReadingsMax,
      oldestPendingAgeMs: oldest === undefined ? null : Math.max(0, this.nowMs() - oldest),
      lost: this.store.lostCount(),
    };
  }
}

/**
 * Why the readings' way to the chain is unhealthy, one "CODE: explanation" per reason (empty when
 * healthy). Without `chain` (an ingest-only gateway) a stall cannot be told from no chain at all.
 */
export function backlogReasons(s: BacklogStatus, o: BacklogOptions, chain?: ChainProgress): string[] {
  const reasons: string[] = [];
  if (s.full) reasons.push(`BACKLOG_FULL: ${s.pending} acknowledged readings wait for the chain (limit ${s.limit}); new readings get 5.03`);
  if (s.oldestPendingAgeMs !== null && s.oldestPendingAgeMs > o.pendingAgeMsMax) {
    reasons.push(`PENDING_OLD: the oldest pending reading was received ${Math.round(s.oldestPendingAgeMs / 1000)} s ago (limit ${Math.round(o.pendingAgeMsMax / 1000)} s)`);
  }
  const stallMs = chain && o.chainStallBlockIntervals * chain.blockIntervalMs;
  if (chain && s.pending > 0 && chain.headAgeMs > stallMs!) {
    reasons.push(`CHAIN_STALLED: no block finalized for ${Math.round(chain.headAgeMs / 1000)} s (${o.chainStallBlockIntervals} block intervals) while ${s.pending} readings wait`);
  }
  if (s.lost > 0) reasons.push(`READINGS_LOST: ${s.lost} acknowledged readings reached the chain too late (below their device's sequence window); see the pending store's rejected rows`);
  return reasons;
}
