// From this gateway's pending store (gateway/ingest/pending-store.ts) to the chain: acknowledged
// readings become co-signed batch transactions, signed and kept by the node signer
// (node-signer.ts, tx-outbox.ts) until a block uses their nonce; each reading's outcome in that
// block (reading-outcome.ts) decides what the pending store records.
//
// Invariant (the pending store owns it, this feed keeps it on the chain side): an acknowledged
// reading leaves the pending set only when a finalized block holds its digest (markIncluded), or
// for a reason intrinsic to the reading (markRejected with an intrinsic code). Anything else
// (a batch displaced from its nonce, a stall, a restart, a reading received "in the future")
// leaves it pending: it is batched again, and the chain's sequence window makes a second copy of
// a reading a no-op. The feed never signs more than `batchesOutstandingMax` batches ahead of the
// chain, so a stall backs up into the pending store (where ingest sees it) and not the mempool.
import type { Logger } from "pino";
import { attestBatch } from "../../shared/attestation.ts";
import { decodedReadings } from "../../shared/decoded-readings.ts";
import type { AttachedReading, TxBody } from "../../shared/tx.ts";
import type { Chain, ChainHead, PendingBlock } from "./chain.ts";
import { invariantFailed } from "./errors.ts";
import type { NodeSigner } from "./node-signer.ts";
import { decodeTxResult, readingOutcome, readingOutcomeNames, type ReadingOutcome } from "./reading-outcome.ts";
import type { OutboxEntry } from "./tx-outbox.ts";
import type { CustodySnapshot } from "../metrics/gateway-metrics.ts";

/** What the feed needs of the pending store: readings carry `cose` (the exact bytes received). */
export interface PendingReadingSource {
  /**
   * Up to `max` pending readings, oldest first (the same ones again until they are marked), leaving
   * out those in `skip` (the readings of batches already signed).
   */
  takeBatch(max: number, skip?: ReadonlySet<number>): { id: number; cose: Uint8Array; receivedAtMs: number }[];
  /** A finalized block at `height` holds these readings. */
  markIncluded(ids: number[], height: number): void;
  /** The chain will never take these readings, for a reason intrinsic to them. */
  markRejected(ids: number[], code: string, message: string): void;
  /** The chain can no longer take these readings, through no fault of theirs: recorded as lost. */
  markLost(ids: number[], code: string, message: string): void;
  /** Readings waiting for the chain, those of signed batches included (without it, every tick reads the store). */
  pendingCount?(): number;
}

export interface ReadingFeedOptions {
  /** Readings per batch transaction (≤ the chain's batchReadingsMax). */
  batchReadingsMax: number;
  /** Batch transactions signed per tick at most. */
  batchesPerTick: number;
  /** Batches signed and not yet on chain at most: past it, readings wait in the pending store. */
  batchesOutstandingMax: number;
}

export const readingFeedDefaults: ReadingFeedOptions = { batchReadingsMax: 1024, batchesPerTick: 4, batchesOutstandingMax: 16 };

/** Reading outcomes that end custody with a rejection: all intrinsic to the reading. */
const intrinsicOutcomes = new Set<ReadingOutcome>([readingOutcome.equivocation, readingOutcome.malformed, readingOutcome.deviceUnknown, readingOutcome.deviceNotActive, readingOutcome.badSignature]);

export class ReadingFeed {
  readonly stats = { readingsIncluded: 0, readingsRejected: 0, readingsRetried: 0, readingsLost: 0 };

  constructor(
    private readonly chain: Chain,
    private readonly signer: NodeSigner,
    private readonly source: PendingReadingSource,
    private readonly log: Logger,
    private readonly options: ReadingFeedOptions = readingFeedDefaults,
  ) {}

  /** Counters for /metrics (gateway/metrics/gateway-metrics.ts CustodySnapshot). */
  snapshot(): CustodySnapshot {
    const { signed, regossiped, displaced } = this.signer.stats;
    const { readingsIncluded, readingsRejected, readingsRetried, readingsLost } = this.stats;
    return { outboxTransactions: this.signer.outbox.size, batchesOutstanding: this.outstanding().length, signed, regossiped, displaced, readingsIncluded, readingsRejected, readingsRetried, readingsLost };
  }

  /** Batches outstanding (signed, nonce not yet used by the chain). */
  outstanding(): OutboxEntry[] {
    return this.signer.unconfirmed().filter((e) => e.tx.body.kind === "readingBatch");
  }

  private reporter: { tick(nowMs: number): void } | undefined;

  /** Ticks a misbehaviour reporter (misbehaviour-reporter.ts) with the feed: both put what ingest saw on chain. */
  attachReporter(reporter: { tick(nowMs: number): void }): void {
    this.reporter = reporter;
  }

  /**
   * Moves pending readings into batch transactions, within the outstanding bound; then reports
   * misbehaviour. `flush`: every pending reading goes (the next proposal is near:
   * consensus/feed-timing.ts times it); otherwise only full batches, so a gateway signs about one
   * batch per block below saturation rather than one per tick.
   */
  tick(nowMs: number, flush = true): void {
    this.batchPending(nowMs, flush);
    this.reporter?.tick(nowMs);
  }

  private batchPending(nowMs: number, flush: boolean): void {
    const max = Math.min(this.options.batchReadingsMax, this.chain.params().batchReadingsMax);
    for (let i = 0; i < this.options.batchesPerTick; i++) {
      const outstanding = this.outstanding();
      if (outstanding.length >= this.options.batchesOutstandingMax) return;
      // Ticks between flushes come often: ask the store for a count before building anything.
      if (!flush && this.source.pendingCount && this.source.pendingCount() - outstanding.reduce((n, e) => n + e.readingIds.length, 0) < max) return;
      const carried = new Set(outstanding.flatMap((e) => e.readingIds));
      // No look-up of the chain first: a reading already on chain (another gateway's copy) comes
      // back as a duplicate outcome and is settled at the height the chain recorded it.
      // The store skips what outstanding batches carry: reading (and decoding) up to 16 batches'
      // readings again on every tick showed in bench:net's profiles.
      const batch = this.source.takeBatch(max, carried).filter((r) => !carried.has(r.id)).slice(0, max);
      if (batch.length === 0 || (!flush && batch.length < max)) return;
      this.submit(batch, nowMs);
      if (batch.length < max) return;
    }
  }

  /**
   * Settles readings the chain already holds (at the height it recorded them); the rest stay
   * pending. A reading that cannot decode is refused (it is malformed).
   */
  private settleKnown(items: { id: number; cose: Uint8Array }[]): void {
    for (const item of items) {
      let onChainAt: number | undefined;
      try {
        const { reading: r, digest } = decodedReadings.decode(item.cose, this.chain.resolveKid);
        const row = this.chain.store.indexes.reading(r.deviceId, r.sequence);
        if (row && Buffer.compare(row.digest, digest) === 0) onChainAt = row.height;
      } catch (e) {
        this.reject([item.id], "READING_MALFORMED", (e as Error).message);
        continue;
      }
      if (onChainAt !== undefined) this.include([item.id], onChainAt);
    }
  }

  private submit(batch: { id: number; cose: Uint8Array; receivedAtMs: number }[], nowMs: number): void {
    const readings: AttachedReading[] = batch.map((r) => ({ bytes: r.cose, receivedAtMs: r.receivedAtMs }));
    const { identity } = this.signer.outbox;
    const attestation = attestBatch(identity.key, identity.id, readings.map((r) => ({ digest: decodedReadings.digest(r.bytes), receivedAtMs: r.receivedAtMs })));
    const body: TxBody = { kind: "readingBatch", attestation, readings };
    this.signer.submit(body, { readingIds: batch.map((r) => r.id) }, nowMs, true); // attested just above, with the signer's key
  }

  /** After a commit: each of our batches in the block settles its readings by their outcomes. */
  onCommitted(head: ChainHead, pending: PendingBlock): void {
    const handled = new Set<number>();
    pending.execution.txs.forEach((tx, i) => {
      const entry = this.signer.outbox.byTxId(tx.id);
      if (!entry) return;
      handled.add(entry.nonce);
      const outcomes = decodeTxResult(pending.execution.results[i]).readings;
      if (outcomes.length !== entry.readingIds.length) invariantFailed(`batch at nonce ${entry.nonce} has ${entry.readingIds.length} readings and ${outcomes.length} outcomes`);
      this.settleOutcomes(entry, outcomes, head.height);
    });
    this.settleUsedNonces(handled);
  }

  /** On start: settles what the chain did with this node's batches while the process was down. */
  recover(): void {
    this.settleUsedNonces(new Set());
  }

  /**
   * Entries whose nonce was used in blocks this process did not execute (it crashed after the
   * commit) or by another transaction: what the chain holds is settled, the rest stays pending.
   */
  private settleUsedNonces(handled: Set<number>): void {
    const { settled, displaced } = this.signer.settle();
    for (const e of [...settled, ...displaced]) if (!handled.has(e.nonce)) this.settleKnown(this.pendingOf(e));
  }

  private settleOutcomes(entry: OutboxEntry, outcomes: ReadingOutcome[], height: number): void {
    const included: number[] = [];
    const rejected = new Map<ReadingOutcome, number[]>();
    outcomes.forEach((o, k) => {
      const id = entry.readingIds[k];
      if (o === readingOutcome.recorded) included.push(id);
      else if (o === readingOutcome.duplicate || o === readingOutcome.fromFuture) {
        // Duplicate: on chain from an earlier block (settleKnown finds its height). From the
        // future: the gateway's clock ran ahead; a later block takes it. Both stay pending here.
        if (o === readingOutcome.fromFuture) this.stats.readingsRetried++;
      } else rejected.set(o, [...(rejected.get(o) ?? []), id]);
    });
    if (included.length > 0) this.include(included, height);
    for (const [o, ids] of rejected) {
      const code = readingOutcomeNames[o];
      if (intrinsicOutcomes.has(o)) this.reject(ids, code, `outcome in block ${height}`);
      else {
        this.log.error({ code, readings: ids.length, height }, "acknowledged readings the chain can no longer take (below the device's sequence window); recorded as lost");
        this.source.markLost(ids, code, `outcome in block ${height}`);
        this.stats.readingsLost += ids.length;
      }
    }
    const duplicates = new Set(entry.readingIds.filter((_, k) => outcomes[k] === readingOutcome.duplicate));
    if (duplicates.size > 0) this.settleKnown(this.pendingOf(entry, duplicates));
  }

  /** An entry's readings (those in `only`, if given) as the batch carries them. */
  private pendingOf(e: OutboxEntry, only?: Set<number>): { id: number; cose: Uint8Array; receivedAtMs: number }[] {
    if (e.tx.body.kind !== "readingBatch") return [];
    const readings = e.tx.body.readings;
    return e.readingIds.flatMap((id, k) => (only && !only.has(id) ? [] : [{ id, cose: readings[k].bytes, receivedAtMs: readings[k].receivedAtMs }]));
  }

  private include(ids: number[], height: number): void {
    this.source.markIncluded(ids, height);
    this.stats.readingsIncluded += ids.length;
  }

  private reject(ids: number[], code: string, message: string): void {
    this.log.warn({ code, readings: ids.length, reason: message }, "readings refused by the chain for a reason of their own; recorded as rejected in the pending store");
    this.source.markRejected(ids, code, message);
    this.stats.readingsRejected += ids.length;
  }
}
