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
//
// A chain-running gateway also refuses when the chain is behind (BACKLOG_BEHIND): when, at the pace
// the chain has been taking this gateway's readings, those already waiting would take longer than
// `backlogWaitBlockIntervals` block intervals to reach it. Under sustained overload a longer queue
// adds only delay, and accepting readings the chain cannot take soon costs CPU the validators need:
// bench:net at 7 validators saturated acknowledged 10,400 readings in 10 s while finalizing 6,600,
// and went to round changes and 6-9 s from send to final. The pace is what successive counts saw
// drained (included, rejected or lost) over the last `chainStallBlockIntervals` intervals, up to the
// last count that saw a drain, counting only the spans that began with readings waiting: an idle
// gateway is not a slow chain, and a fleet that wakes up together after a quiet spell must be paced
// by what the chain does with its burst, not refused for the quiet (bench:net's start-up told
// devices "wait ~111 s" that way). A window with no drain at all is a stalled chain, not a slow one,
// and is left to the count limit (the durable buffer is for stalls: view changes, a restarted
// validator). Max-Age is the time until the wait would be down to the limit at that pace, at most
// the window: the pace is never older than that, and a refusal is cheap. The pipeline asks before
// it verifies a new reading's signature, so a refused reading costs no verification.
import { IngestError } from "./errors.ts";
import type { IngestOptions } from "./options.ts";
import type { PendingStore } from "./pending-store.ts";

export type BacklogOptions = Pick<IngestOptions, "backlogReadingsMax" | "backlogRetryAfterS" | "backlogRefreshMs" | "backlogWaitBlockIntervals" | "pendingAgeMsMax" | "chainStallBlockIntervals">;

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
  /** How long the pending readings would wait at the chain's recent pace; null when no pace is known (no chain, idle, stalled). */
  expectedWaitMs: number | null;
  /** backlogWaitBlockIntervals in ms (null without a chain): past it new readings get 5.03 BACKLOG_BEHIND. */
  waitLimitMs: number | null;
  behind: boolean;
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
  /** What each count inside the pace window saw drained since the count before it, oldest first; only spans that began with readings waiting. */
  private readonly drains: { fromMs: number; atMs: number; drained: number }[] = [];
  /** The window's pace, ms per drained reading, set at each count (the only time `drains` changes); undefined: no drain in it. */
  private msPerReading: number | undefined;

  /** `blockIntervalMs`: the chain's block interval now, on a chain-running gateway; without it the backlog only counts. */
  constructor(
    private readonly store: Pick<PendingStore, "pendingCount" | "oldestPendingReceivedAtMs" | "lostCount">,
    readonly options: BacklogOptions,
    private readonly nowMs: () => number = Date.now,
    private readonly blockIntervalMs?: () => number,
  ) {}

  /** Acknowledged readings waiting for the chain; SQLite is asked at most every backlogRefreshMs. */
  pending(): number {
    const now = this.nowMs();
    if (now - this.countedAtMs >= this.options.backlogRefreshMs) {
      const count = this.store.pendingCount();
      if (this.countedAtMs > Number.NEGATIVE_INFINITY) this.noteDrain(this.countedAtMs, now, this.counted, this.counted + this.addedSinceCount - count);
      this.counted = count;
      this.countedAtMs = now;
      this.addedSinceCount = 0;
    }
    return this.counted + this.addedSinceCount;
  }

  /** `waiting`: readings pending when the span began (the previous count). */
  private noteDrain(fromMs: number, atMs: number, waiting: number, drained: number): void {
    if (!this.blockIntervalMs) return;
    const windowFromMs = atMs - this.paceWindowMs();
    // A span that began with nothing waiting tells nothing of the chain's pace. A count after a
    // long busy spell spreads its drain over the window at most.
    if (waiting > 0) this.drains.push({ fromMs: Math.max(fromMs, windowFromMs), atMs, drained: Math.max(0, drained) });
    while (this.drains.length > 0 && this.drains[0].atMs < windowFromMs) this.drains.shift();
    // The pace: the spans' time up to the last one that saw a drain, over what they drained.
    let total = 0;
    let spansMs = 0;
    let toLastDrainMs: number | undefined;
    for (const d of this.drains) {
      spansMs += d.atMs - d.fromMs;
      if (d.drained === 0) continue;
      total += d.drained;
      toLastDrainMs = spansMs;
    }
    this.msPerReading = toLastDrainMs === undefined ? undefined : toLastDrainMs / total;
  }

  /** chainStallBlockIntervals in ms: how far back the pace looks. */
  private paceWindowMs(): number {
    return this.options.chainStallBlockIntervals * this.blockIntervalMs!();
  }

  /**
   * How long the readings pending now would wait at the pace the chain drained them over the window.
   * Undefined when nothing drained in the window: idle, stalled, or a gateway without a chain.
   */
  expectedWaitMs(): number | undefined {
    const pending = this.pending(); // first: a count due now updates the pace
    return this.msPerReading === undefined ? undefined : pending * this.msPerReading;
  }

  /** backlogWaitBlockIntervals in ms; undefined on a gateway without a chain. */
  waitLimitMs(): number | undefined {
    return this.blockIntervalMs && this.options.backlogWaitBlockIntervals * this.blockIntervalMs();
  }

  /**
   * The 5.03 a new reading gets now, or undefined when it may be accepted: the count limit first
   * (`inflight` are accepted but still being committed), then the chain's pace.
   */
  refusal(inflight: number): IngestError | undefined {
    if (this.full(inflight)) return this.fullRefusal();
    const waitMs = this.expectedWaitMs();
    const limitMs = this.waitLimitMs();
    if (waitMs === undefined || limitMs === undefined || waitMs <= limitMs) return undefined;
    // Come back when what waits now would be down to the limit, or when the pace has been measured anew.
    const retryAfterS = Math.max(1, Math.ceil(Math.min(waitMs - limitMs, this.paceWindowMs()) / 1000));
    return new IngestError("BACKLOG_BEHIND", `the chain is behind: readings wait ~${(waitMs / 1000).toFixed(1)} s here (limit ${(limitMs / 1000).toFixed(1)} s); keep this one, retry in ${retryAfterS} s`, retryAfterS);
  }

  /** `n` more readings were acknowledged (durably stored) since the last count. */
  added(n = 1): void {
    this.addedSinceCount += n;
  }

  /** True when a new reading must be refused: `inflight` are accepted but still being committed. */
  full(inflight: number): boolean {
    return this.pending() + inflight >= this.options.backlogReadingsMax;
  }

  /** The count limit's refusal: 5.03 with Max-Age; the device keeps the reading and sends it again later. */
  private fullRefusal(): IngestError {
    const { backlogReadingsMax, backlogRetryAfterS } = this.options;
    return new IngestError("BACKLOG_FULL", `${backlogReadingsMax} readings wait for the chain; keep this one, retry in ${backlogRetryAfterS} s`, backlogRetryAfterS);
  }

  status(): BacklogStatus {
    const pending = this.pending();
    const oldest = this.store.oldestPendingReceivedAtMs();
    const waitMs = this.expectedWaitMs();
    const limitMs = this.waitLimitMs();
    return {
      pending,
      limit: this.options.backlogReadingsMax,
      full: pending >= this.options.backlogReadingsMax,
      oldestPendingAgeMs: oldest === undefined ? null : Math.max(0, this.nowMs() - oldest),
      lost: this.store.lostCount(),
      expectedWaitMs: waitMs === undefined ? null : Math.round(waitMs),
      waitLimitMs: limitMs ?? null,
      behind: waitMs !== undefined && limitMs !== undefined && waitMs > limitMs,
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
  else if (s.behind) reasons.push(`BACKLOG_BEHIND: ${s.pending} acknowledged readings would wait ~${Math.round(s.expectedWaitMs! / 1000)} s at the chain's pace (limit ${Math.round(s.waitLimitMs! / 1000)} s); new readings get 5.03`);
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
