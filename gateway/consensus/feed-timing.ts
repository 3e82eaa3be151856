// When the reading feed signs what ingest accepted (gateway/chain/reading-feed.ts): shortly before
// each round-0 proposal, so an acknowledged reading waits for the next block and not for a tick and
// then the block after, and about once per block, since every batch costs two signatures here and
// its envelope, attestation and gossip at every validator.
//
// Round 0's proposal of the next height goes one interval after the head's header time, or at once
// when the head committed later than that (core.ts proposeAtMs). While that height is being decided,
// the proposal after it cannot come before another interval has passed, and so on: the flush points
// are that time, then every interval after it, each a quarter of an interval early: the batch must
// be signed and stored (the outbox's fsync), gossiped, verified on the proposer's busy thread pool
// and admitted in arrival order before the proposal goes. An eighth (25 ms at 200 ms blocks, less the
// feed's tick of 12.5 ms) was too little under load: bench:net at 780 readings/s and 4 validators
// measured p50 390 and 393 ms from send to final with it, 231 to 269 ms with a quarter (252 and
// 237 with a third), the difference being readings that missed the proposal they were flushed for
// and waited a block more. A head that commits moves the points, so a height decided within its
// interval gets exactly one flush.
//
// The node ticks the feed every sixteenth of an interval (for batches that fill up between points)
// and also sets a timer for the next point (nextFeedFlushAt), so a flush happens at its point and not
// up to a tick later: the tick's lateness, half a tick on average, came out of every reading's wait.
//
// The proposer's own batch needs none of that: it is signed and put in its own mempool, in the same
// process and on the same thread, before its proposal timer runs. So a node that proposes the next
// height flushes a second time a few milliseconds before its proposal (ownLeadMs), and what it
// acknowledged in the last quarter goes in that block rather than in the next. The quarter's flush
// stays: the bulk of the batch reaches the other validators early, and only the last few
// milliseconds' readings come to them first in the proposal, to verify before they vote (flushing
// only at ownLeadMs measured no better at 4 validators for that reason, 40-46 ms better at 1). A
// validator alone has nobody to gossip to: all its points are ownLeadMs early, one flush per block.
//
// Pure: the node (node.ts) feeds it its clock and what it saw of the head.

export interface FeedTimingInput {
  nowMs: number;
  intervalMs: number;
  /** The head's header time (its proposer's clock). */
  headTimeMs: number;
  /** When this node saw the head commit (its own clock). */
  headSeenAtMs: number;
  /** When the feed last flushed (0: never). */
  flushedAtMs: number;
  /** This node proposes the next height (round 0): it flushes again ownLeadMs before that proposal. */
  proposesNext?: boolean;
  /** This node is the only validator: it proposes every height, and its points are all ownLeadMs early. */
  alone?: boolean;
}

/** How long before its own proposal a proposer flushes: the batch is signed and stored (an fsync) on the thread its proposal timer runs on, after it. */
export const ownLeadMs = 5;

/**
 * How long before a flush point ingest's group commit closes at the latest (node.ts
 * readingsDurableBy): a reading reaches the pending store, where the feed takes it, only once its
 * commit is durable (a signature, the writer thread's transaction and fsync, its answer).
 */
export const feedCommitMarginMs = 10;

/** The flush point to act on now, or undefined when the last one passed is flushed already (or none has passed). */
export function feedFlushDue(t: FeedTimingInput): number | undefined {
  const { first, own } = flushPoints(t);
  if (t.nowMs < first) return undefined;
  let latest = first + Math.floor((t.nowMs - first) / t.intervalMs) * t.intervalMs;
  if (own !== undefined && own <= t.nowMs && own > latest) latest = own;
  return t.flushedAtMs < latest ? latest : undefined;
}

/** The first flush point after `nowMs` (what a timer waits for; feedFlushDue returns it from then on). */
export function nextFeedFlushAt(t: Omit<FeedTimingInput, "flushedAtMs">): number {
  const { first, own } = flushPoints(t);
  const regular = t.nowMs < first ? first : first + (Math.floor((t.nowMs - first) / t.intervalMs) + 1) * t.intervalMs;
  return own !== undefined && own > t.nowMs && own < regular ? own : regular;
}

/**
 * The next proposal's flush point a quarter early (`first`; the later points follow it an interval
 * apart) and, for its proposer, the one just before it (`own`).
 */
function flushPoints(t: Pick<FeedTimingInput, "intervalMs" | "headTimeMs" | "headSeenAtMs" | "proposesNext" | "alone">): { first: number; own?: number } {
  const quarter = Math.floor(t.intervalMs / 4);
  const lead = t.alone ? Math.min(ownLeadMs, quarter) : quarter;
  const proposalMs = Math.max(t.headTimeMs + t.intervalMs, t.headSeenAtMs);
  return { first: proposalMs - lead, own: t.proposesNext && ownLeadMs < lead ? proposalMs - ownLeadMs : undefined };
}
