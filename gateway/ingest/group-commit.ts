// Group commit with co-signing: readings accepted within a short window (or up to a count) are
// co-signed together, one Ed25519 signature over the Merkle root of the batch (shared/attestation.ts),
// and written with that attestation in one SQLite transaction. Every waiting request is answered
// only after the transaction is on disk, so one fsync and one signature serve the whole batch.
import type { Logger } from "pino";
import { attestBatch, batchReadingsMax as attestationBatchMax } from "../../shared/attestation.ts";
import { IngestError } from "./errors.ts";
import type { GatewayIdentity } from "./gateway-identity.ts";
import type { MisbehaviourCounters } from "./misbehaviour.ts";
import type { AcceptedReading, PendingStore } from "./pending-store.ts";

export interface GroupCommitOptions {
  batchReadingsMax: number;
  commitDelayMs: number;
  countersFlushMs: number;
}

export interface CommitStats {
  commits: number;
  readingsCommitted: number;
  commitFailures: number;
}

interface Waiter {
  reading: AcceptedReading;
  resolve: (batchId: number) => void;
  reject: (e: Error) => void;
}

export class GroupCommit {
  private queue: Waiter[] = [];
  private armed: NodeJS.Immediate | NodeJS.Timeout | undefined;
  private readonly countersTimer: NodeJS.Timeout;
  private closed = false;
  readonly stats: CommitStats = { commits: 0, readingsCommitted: 0, commitFailures: 0 };

  constructor(
    private readonly store: PendingStore,
    private readonly identity: GatewayIdentity,
    private readonly counters: MisbehaviourCounters,
    private readonly options: GroupCommitOptions,
    private readonly log: Logger,
  ) {
    if (options.batchReadingsMax < 1 || options.batchReadingsMax > attestationBatchMax) throw new RangeError(`batchReadingsMax must be 1..${attestationBatchMax}`);
    this.countersTimer = setInterval(() => this.flushCounters(), options.countersFlushMs);
    this.countersTimer.unref();
  }

  /** Resolves with the batch id once `reading` is co-signed and durably stored. */
  submit(reading: AcceptedReading): Promise<number> {
    if (this.closed) return Promise.reject(new IngestError("STORE_FAILED", "gateway shutting down, retry", 1));
    return new Promise((resolve, reject) => {
      this.queue.push({ reading, resolve, reject });
      if (this.queue.length >= this.options.batchReadingsMax) this.flush();
      else if (!this.armed) {
        // 0 ms: everything handled in this event-loop turn shares the commit (natural batching,
        // since the loop is blocked while a commit syncs, requests pile up for the next one).
        this.armed = this.options.commitDelayMs > 0 ? setTimeout(() => this.flush(), this.options.commitDelayMs) : setImmediate(() => this.flush());
      }
    });
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Commits everything queued now (also called on shutdown). */
  flush(): void {
    this.disarm();
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.batchReadingsMax);
      this.commit(batch);
    }
  }

  private commit(batch: Waiter[]): void {
    const readings = batch.map((w) => w.reading);
    const deltas = this.counters.drain();
    let batchId: number;
    try {
      const attestation = attestBatch(this.identity.privateKey, this.identity.gatewayId, readings);
      batchId = this.store.commitBatch(readings, attestation, deltas)!;
    } catch (e) {
      this.counters.restore(deltas);
      this.stats.commitFailures++;
      this.log.error({ err: e, readings: readings.length, code: "STORE_FAILED" }, "commit failed; devices will retry");
      const err = new IngestError("STORE_FAILED", "gateway store failed, retry later", 5);
      for (const w of batch) w.reject(err);
      return;
    }
    this.stats.commits++;
    this.stats.readingsCommitted += readings.length;
    for (const w of batch) w.resolve(batchId);
  }

  /** Carries misbehaviour counters to disk when no reading commit has done it. */
  flushCounters(): void {
    if (this.counters.size === 0 || this.queue.length > 0) return;
    const deltas = this.counters.drain();
    try {
      this.store.commitBatch([], undefined, deltas);
    } catch (e) {
      this.counters.restore(deltas);
      this.log.error({ err: e, code: "STORE_FAILED" }, "could not store misbehaviour counters");
    }
  }

  private disarm(): void {
    if (this.armed === undefined) return;
    clearTimeout(this.armed as NodeJS.Timeout);
    clearImmediate(this.armed as NodeJS.Immediate);
    this.armed = undefined;
  }

  /** Commits what is queued, stores the counters, and refuses further readings. */
  close(): void {
    this.flush();
    this.closed = true;
    clearInterval(this.countersTimer);
    if (this.counters.size > 0) this.flushCounters();
  }
}
