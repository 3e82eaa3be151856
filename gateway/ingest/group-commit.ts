// Group commit with co-signing: the readings accepted while the previous commit was being written
// (or up to a count) are co-signed together, one Ed25519 signature over the Merkle root of the
// batch (shared/attestation.ts), and written with that attestation in one SQLite transaction.
// Every waiting request is answered only after the transaction is durable, so one fsync and one
// signature serve the whole batch. One commit is in flight at a time; the batch size follows the
// load by itself: the longer a commit takes, the more readings the next one carries.
import type { Logger } from "pino";
import { attestBatch, batchReadingsMax as attestationBatchMax } from "../../shared/attestation.ts";
import type { CommitWriter } from "./commit-writer.ts";
import { IngestError } from "./errors.ts";
import type { GatewayIdentity } from "./gateway-identity.ts";
import type { MisbehaviourCounters } from "./misbehaviour.ts";
import type { AcceptedReading } from "./pending-store.ts";

export interface GroupCommitOptions {
  batchReadingsMax: number;
  commitDelayMs: number;
  countersFlushMs: number;
  /** Readings waiting for a commit beyond which new ones are refused with 5.03 (back-pressure). */
  queueReadingsMax: number;
}

export interface CommitStats {
  commits: number;
  readingsCommitted: number;
  commitFailures: number;
  largestBatch: number;
}

interface Waiter {
  reading: AcceptedReading;
  resolve: (batchId: number) => void;
  reject: (e: Error) => void;
}

export class GroupCommit {
  private queue: Waiter[] = [];
  private armed: NodeJS.Immediate | NodeJS.Timeout | undefined;
  private inflight: Promise<void> | undefined;
  private readonly countersTimer: NodeJS.Timeout;
  private closed = false;
  readonly stats: CommitStats = { commits: 0, readingsCommitted: 0, commitFailures: 0, largestBatch: 0 };

  constructor(
    private readonly writer: CommitWriter,
    private readonly identity: GatewayIdentity,
    private readonly counters: MisbehaviourCounters,
    private readonly options: GroupCommitOptions,
    private readonly log: Logger,
  ) {
    if (options.batchReadingsMax < 1 || options.batchReadingsMax > attestationBatchMax) throw new RangeError(`batchReadingsMax must be 1..${attestationBatchMax}`);
    this.countersTimer = setInterval(() => void this.flushCounters(), options.countersFlushMs);
    this.countersTimer.unref();
  }

  /** Resolves with the batch id once `reading` is co-signed and durably stored. */
  submit(reading: AcceptedReading): Promise<number> {
    if (this.closed) return Promise.reject(new IngestError("STORE_FAILED", "gateway shutting down, retry", 1));
    if (this.queue.length >= this.options.queueReadingsMax) return Promise.reject(new IngestError("OVERLOADED", "gateway overloaded, retry", 1));
    return new Promise((resolve, reject) => {
      this.queue.push({ reading, resolve, reject });
      this.arm();
    });
  }

  get queued(): number {
    return this.queue.length;
  }

  private arm(): void {
    if (this.closed || this.inflight || this.armed || this.queue.length === 0) return;
    // 0 ms: everything handled in this event-loop turn joins the commit.
    const run = () => {
      this.armed = undefined;
      this.startCommit();
    };
    this.armed = this.options.commitDelayMs > 0 ? setTimeout(run, this.options.commitDelayMs) : setImmediate(run);
  }

  private startCommit(): void {
    if (this.inflight || this.queue.length === 0) return;
    const batch = this.queue.splice(0, this.options.batchReadingsMax);
    this.inflight = this.commit(batch).finally(() => {
      this.inflight = undefined;
      this.arm();
    });
  }

  private async commit(batch: Waiter[]): Promise<void> {
    const readings = batch.map((w) => w.reading);
    const deltas = this.counters.drain();
    let batchId: number;
    try {
      const attestation = attestBatch(this.identity.privateKey, this.identity.gatewayId, readings);
      batchId = (await this.writer.commit(readings, attestation, deltas))!;
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
    this.stats.largestBatch = Math.max(this.stats.largestBatch, readings.length);
    for (const w of batch) w.resolve(batchId);
  }

  /** Carries misbehaviour counters to disk when no reading commit has done it. */
  async flushCounters(): Promise<void> {
    await this.inflight;
    if (this.counters.size === 0) return;
    const deltas = this.counters.drain();
    try {
      await this.writer.commit([], undefined, deltas);
    } catch (e) {
      this.counters.restore(deltas);
      this.log.error({ err: e, code: "STORE_FAILED" }, "could not store misbehaviour counters");
    }
  }

  /** Refuses further readings, commits and answers everything queued, stores the counters. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.countersTimer);
    if (this.armed !== undefined) {
      clearTimeout(this.armed as NodeJS.Timeout);
      clearImmediate(this.armed as NodeJS.Immediate);
      this.armed = undefined;
    }
    for (;;) {
      await this.inflight;
      if (this.queue.length === 0) break;
      this.startCommit();
    }
    await this.flushCounters();
  }
}
