// From this gateway's ingest pipeline to the chain under PBFT: accepted readings (a lease on the
// pending store: gateway/chain/producer.ts PendingReadingSource) become co-signed batch
// transactions in the local mempool, which gossip carries to the proposers. When a block commits,
// the readings it carried are marked included at its height; a batch that no block took within
// `inFlightHeightsMax` heights is forgotten, so its readings are offered again. A reading the chain
// already holds (its batch landed through another path, or before a crash) is marked included at
// the height the chain recorded; nothing acknowledged is dropped without a reason.
import type { Logger } from "pino";
import { toHex } from "../../shared/ed25519.ts";
import { decodeReading, readingDigest } from "../../shared/reading.ts";
import type { Chain, ChainHead, PendingBlock } from "../chain/chain.ts";
import type { Identity } from "../chain/keyfile.ts";
import type { Mempool } from "../chain/mempool.ts";
import type { PendingReadingSource } from "../chain/producer.ts";
import { submitReadingBatch } from "../chain/reading-batch.ts";
import { IndexWriter } from "../storage/index-writer.ts";

export interface ReadingFeedOptions {
  /** Readings per batch transaction (≤ the chain's batchReadingsMax). */
  batchReadingsMax: number;
  /** Batch transactions built per tick. */
  batchesPerTick: number;
  /** Heights a batch may wait for a block before its readings are offered again. */
  inFlightHeightsMax: number;
}

export const readingFeedDefaults: ReadingFeedOptions = { batchReadingsMax: 1024, batchesPerTick: 4, inFlightHeightsMax: 20 };

type Id = number | string;

/** What ingest's PendingStore (gateway/ingest/pending-store.ts) offers: readings carry `cose`, not `bytes`. */
export interface IngestPendingStore {
  takeBatch(max: number): { id: number; cose: Uint8Array; receivedAtMs: number }[];
  markIncluded(ids: number[], height: number): void;
  markRejected(ids: number[], code: string, message: string): void;
}

/** Adapts ingest's pending store to the chain's PendingReadingSource (the two name the bytes differently). */
export function ingestReadingSource(store: IngestPendingStore): PendingReadingSource {
  return {
    takeBatch: (max) => store.takeBatch(max).map((r) => ({ id: r.id, bytes: r.cose, receivedAtMs: r.receivedAtMs })),
    markIncluded: (ids, height) => store.markIncluded(ids as number[], height),
    markRejected: (ids, code, message) => store.markRejected(ids as number[], code, message),
  };
}

export class ReadingFeed {
  private readonly inFlight = new Map<string, { ids: Id[]; sinceHeight: number }>();
  /** The chain's readings index (read only): where a reading already on chain was recorded. */
  private readonly index: IndexWriter;
  readonly stats = { batches: 0, readingsSubmitted: 0, readingsIncluded: 0, readingsRejected: 0, expired: 0 };

  constructor(
    private readonly chain: Chain,
    private readonly mempool: Mempool,
    private readonly identity: Identity,
    private readonly source: PendingReadingSource,
    private readonly gossip: (tx: Uint8Array) => void,
    private readonly log: Logger,
    private readonly options: ReadingFeedOptions = readingFeedDefaults,
  ) {
    this.index = new IndexWriter(chain.store.db);
  }

  /** Moves leased readings into batch transactions. */
  tick(nowMs: number): void {
    const max = Math.min(this.options.batchReadingsMax, this.chain.params().batchReadingsMax);
    for (let i = 0; i < this.options.batchesPerTick; i++) {
      const carried = new Set<Id>([...this.inFlight.values()].flatMap((f) => f.ids));
      const items = this.source.takeBatch(max + carried.size).filter((r) => !carried.has(r.id)).slice(0, max);
      if (items.length === 0) return;
      const s = submitReadingBatch(this.mempool, this.identity, items, nowMs);
      const alreadyOnChain: number[] = [];
      const rejected = new Map<string, { ids: Id[]; message: string }>();
      for (const r of s.refused) {
        if (r.code === "READING_SEQUENCE_REPLAY" && this.markIfOnChain(items[r.index])) alreadyOnChain.push(r.index);
        else {
          const g = rejected.get(r.code) ?? { ids: [], message: r.message };
          g.ids.push(items[r.index].id);
          rejected.set(r.code, g);
        }
      }
      for (const [code, g] of rejected) {
        this.log.warn({ code, readings: g.ids.length, reason: g.message }, "readings refused by the chain; recorded as rejected in the pending store");
        this.source.markRejected?.(g.ids, code, g.message);
        this.stats.readingsRejected += g.ids.length;
      }
      if (s.tx) {
        this.inFlight.set(toHex(s.tx.id), { ids: s.included.map((k) => items[k].id), sinceHeight: this.chain.head().height });
        this.stats.batches++;
        this.stats.readingsSubmitted += s.included.length;
        this.gossip(s.tx.bytes);
      }
      if (items.length < max) return;
    }
  }

  /** After a commit: readings in the block are included; batches that waited too long are released. */
  onCommitted(head: ChainHead, pending: PendingBlock): void {
    for (const tx of pending.execution.txs) {
      const key = toHex(tx.id);
      const f = this.inFlight.get(key);
      if (!f) continue;
      this.source.markIncluded(f.ids, head.height);
      this.stats.readingsIncluded += f.ids.length;
      this.inFlight.delete(key);
    }
    for (const [key, f] of this.inFlight) {
      if (head.height - f.sinceHeight <= this.options.inFlightHeightsMax) continue;
      this.inFlight.delete(key);
      this.stats.expired++;
      this.log.warn({ height: head.height, tx: key, readings: f.ids.length }, "reading batch not included in time; its readings will be offered again");
    }
  }

  /** The chain already records this exact reading: mark it included at the recorded height. */
  private markIfOnChain(item: { id: Id; bytes: Uint8Array }): boolean {
    try {
      const r = decodeReading(item.bytes);
      const record = this.index.reading(r.deviceId, r.sequence);
      if (!record || Buffer.compare(record.digest, readingDigest(item.bytes)) !== 0) return false;
      this.source.markIncluded([item.id], record.height);
      this.stats.readingsIncluded++;
      return true;
    } catch {
      return false;
    }
  }
}
