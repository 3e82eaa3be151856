// The gateway's Prometheus metrics (prom-client), served at GET /metrics by the API.
//
// Two kinds of source: hot-path counters that other subsystems already keep as plain integers
// (ingest, mempool, consensus) are read only when scraped, so nothing on the hot path pays for
// Prometheus; events the API observes itself (a block finalized, a SQLite query) are recorded
// into histograms as they happen.
//
//   const metrics = new GatewayMetrics({ mempool, chain, consensus, ingest: gw });
//   metrics.observeFinalized({ finalityMs, receivedAtMs: [...] , nowMs });
//   metrics.timeSqlite("readings_by_device", () => db.prepare(...).all());
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import { verifiedReadings } from "../../shared/verified-readings.ts";

/** What the metrics read from consensus (gateway/api/consensus-source.ts ConsensusSource fits). */
export interface ConsensusCounters {
  snapshot(): { height: number; round: number; roundChangesTotal: number; decidedTotal: number; peersConnected?: number };
}

/** Counters of the chain side of reading custody: this node's own transactions and each reading's settlement. */
export interface CustodySnapshot {
  outboxTransactions: number;
  batchesOutstanding: number;
  signed: number;
  regossiped: number;
  displaced: number;
  readingsIncluded: number;
  readingsRejected: number;
  readingsRetried: number;
  readingsLost: number;
}

export interface MetricsSources {
  mempool?: { readonly size: number; readonly sizeBytes: number };
  chain?: { head(): { height: number } };
  consensus?: ConsensusCounters;
  /** Flat counters of the ingest gateway (IngestGateway.snapshot()): readingsAccepted, rejected<CODE>... */
  ingest?: {
    snapshot(): Record<string, number>;
    /** Acknowledged readings not yet on chain, and the age of the oldest (IngestGateway.backlogStatus()). */
    backlog?(): { pending: number; oldestPendingAgeMs: number | null };
  };
  /** What the node signer and reading feed did (gateway/chain/reading-feed.ts ReadingFeed.snapshot()). */
  custody?: { snapshot(): CustodySnapshot };
  /** Collect Node's process metrics (CPU, heap, event-loop lag). Off in tests that build many registries. */
  processMetrics?: boolean;
}

const prefix = "moteledger_";
const rejectedPrefix = "rejected";

// Seconds. Finality: a solo commit takes milliseconds, PBFT over a LAN tens to hundreds.
const finalityBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
// A reading waits for a block interval or more between the gateway's receipt and finality.
const readingFinalityBuckets = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300];
const sqliteBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];
const httpBuckets = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5];

/**
 * A Prometheus counter mirroring an integer another subsystem counts: on each scrape it advances
 * by what the source gained since the last scrape (a source that restarted from zero is not
 * subtracted: counters never go down).
 */
function mirroredCounter(registry: Registry, name: string, help: string, labelNames: string[], read: () => Map<string, number> | number | undefined): void {
  const last = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames,
    registers: [registry],
    collect() {
      const now = read();
      if (now === undefined) return;
      const entries = typeof now === "number" ? [["", now] as const] : [...now];
      for (const [label, value] of entries) {
        const delta = value - (last.get(label) ?? 0);
        last.set(label, value);
        const labels = labelNames.length ? { [labelNames[0]]: label } : {};
        if (delta > 0) this.inc(labels, delta);
        else this.inc(labels, 0); // make the series visible at zero
      }
    },
  });
}

function gauge(registry: Registry, name: string, help: string, read: () => number | undefined): void {
  new Gauge({
    name,
    help,
    registers: [registry],
    collect() {
      const v = read();
      if (v !== undefined) this.set(v);
    },
  });
}

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly readingsFinalized: Counter<string>;
  private readonly blockFinality: Histogram<string>;
  private readonly readingFinality: Histogram<string>;
  private readonly sqlite: Histogram<"query">;
  private readonly http: Histogram<"route" | "method" | "status">;

  constructor(sources: MetricsSources = {}) {
    const r = this.registry;
    if (sources.processMetrics) collectDefaultMetrics({ register: r, prefix });
    const ingest = sources.ingest;
    mirroredCounter(r, `${prefix}readings_received_total`, "Readings accepted by this gateway's ingest (verified, co-signed, stored): readings in", [], () => ingest?.snapshot().readingsAccepted);
    mirroredCounter(r, `${prefix}readings_rejected_total`, "Readings refused by ingest, by reason code (MALFORMED, BAD_SIGNATURE, REPLAY, RATE_LIMITED...)", ["code"], () => {
      if (!ingest) return undefined;
      const out = new Map<string, number>();
      for (const [k, v] of Object.entries(ingest.snapshot())) if (k.startsWith(rejectedPrefix)) out.set(k.slice(rejectedPrefix.length), v);
      return out;
    });
    mirroredCounter(r, `${prefix}reading_verify_failures_total`, "Readings whose device signature did not verify (ingest BAD_SIGNATURE)", [], () => (ingest ? (ingest.snapshot()[`${rejectedPrefix}BAD_SIGNATURE`] ?? 0) : undefined));
    mirroredCounter(r, `${prefix}reading_verifications_total`, "Device signatures of peers' batches and proposals verified on the thread pool (run), and checks that joined a verification of the same reading already under way (joined)", ["kind"], () => new Map([["run", verifiedReadings.stats.run], ["joined", verifiedReadings.stats.joined]]));
    gauge(r, `${prefix}readings_pending`, "Readings acknowledged by this gateway (2.01) and not yet in a finalized block: its durable backlog", () => ingest?.backlog?.().pending);
    gauge(r, `${prefix}readings_pending_oldest_age_seconds`, "Age of the oldest reading still waiting for the chain (0 when none waits)", () => {
      const b = ingest?.backlog?.();
      return b && (b.oldestPendingAgeMs ?? 0) / 1000;
    });
    const custody = sources.custody;
    gauge(r, `${prefix}outbox_transactions`, "Transactions this node signed whose nonce the chain has not used yet (batches and evidence)", () => custody?.snapshot().outboxTransactions);
    gauge(r, `${prefix}reading_batches_outstanding`, "Reading batches signed and not yet on chain (bounded: past it readings wait in the pending store)", () => custody?.snapshot().batchesOutstanding);
    mirroredCounter(r, `${prefix}own_transactions_total`, "This node's own transactions: signed, gossiped again, displaced from their nonce by another transaction of the key", ["event"], () => {
      const s = custody?.snapshot();
      return s && new Map([["signed", s.signed], ["regossiped", s.regossiped], ["displaced", s.displaced]]);
    });
    mirroredCounter(r, `${prefix}readings_settled_total`, "Acknowledged readings settled by their outcome on chain: included, rejected (intrinsic reason), retried (kept pending), lost", ["outcome"], () => {
      const s = custody?.snapshot();
      return s && new Map([["included", s.readingsIncluded], ["rejected", s.readingsRejected], ["retried", s.readingsRetried], ["lost", s.readingsLost]]);
    });
    this.readingsFinalized = new Counter({ name: `${prefix}readings_finalized_total`, help: "Readings in blocks finalized since this process started: readings out", registers: [r] });
    gauge(r, `${prefix}mempool_transactions`, "Transactions waiting in the mempool", () => sources.mempool?.size);
    gauge(r, `${prefix}mempool_bytes`, "Bytes of transactions waiting in the mempool", () => sources.mempool?.sizeBytes);
    gauge(r, `${prefix}chain_height`, "Height of the finalized head", () => sources.chain?.head().height);
    const c = sources.consensus;
    gauge(r, `${prefix}consensus_height`, "Height consensus is deciding (finalized head + 1)", () => c?.snapshot().height);
    gauge(r, `${prefix}consensus_round`, "Consensus round (PBFT view) at the height being decided", () => c?.snapshot().round);
    gauge(r, `${prefix}consensus_peers`, "Validator peers connected", () => c?.snapshot().peersConnected);
    mirroredCounter(r, `${prefix}consensus_round_changes_total`, "Round changes (PBFT view changes): a proposer failed or was late", [], () => c?.snapshot().roundChangesTotal);
    mirroredCounter(r, `${prefix}consensus_decided_total`, "Heights decided by consensus", [], () => c?.snapshot().decidedTotal);
    this.blockFinality = new Histogram({ name: `${prefix}block_finality_seconds`, help: "From a block's header time (proposal) to its finalization on this gateway", buckets: finalityBuckets, registers: [r] });
    this.readingFinality = new Histogram({ name: `${prefix}reading_finality_seconds`, help: "From a reading's receipt by its gateway to the finalization of its block", buckets: readingFinalityBuckets, registers: [r] });
    this.sqlite = new Histogram({ name: `${prefix}sqlite_query_seconds`, help: "SQLite query time, by query", labelNames: ["query"], buckets: sqliteBuckets, registers: [r] });
    this.http = new Histogram({ name: `${prefix}http_request_seconds`, help: "HTTP API request time, by route and status", labelNames: ["route", "method", "status"], buckets: httpBuckets, registers: [r] });
  }

  /** A block was finalized: `receivedAtMs` of each of its readings, `nowMs` when it was observed. */
  observeFinalized(b: { headerTimeMs: number; receivedAtMs: readonly number[]; nowMs: number }): void {
    this.blockFinality.observe(Math.max(0, b.nowMs - b.headerTimeMs) / 1000);
    for (const t of b.receivedAtMs) this.readingFinality.observe(Math.max(0, b.nowMs - t) / 1000);
    this.readingsFinalized.inc(b.receivedAtMs.length);
  }

  observeSqlite(query: string, seconds: number): void {
    this.sqlite.observe({ query }, seconds);
  }

  /** Runs a synchronous SQLite call and records its time under `query`. */
  timeSqlite<T>(query: string, fn: () => T): T {
    const t0 = process.hrtime.bigint();
    try {
      return fn();
    } finally {
      this.sqlite.observe({ query }, Number(process.hrtime.bigint() - t0) / 1e9);
    }
  }

  observeHttp(route: string, method: string, status: number, seconds: number): void {
    this.http.observe({ route, method, status: String(status) }, seconds);
  }

  /** Prometheus text exposition format 0.0.4. */
  async text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
