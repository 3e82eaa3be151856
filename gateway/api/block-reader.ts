// Decoded blocks and transactions for the API, with a small cache. A reading's payload lives only
// in its block body (the index keeps its position), and a batch transaction carries up to 4,096
// readings: a page of readings usually falls in a few batches, so decoding each batch once and
// keeping the last few avoids decoding the same megabyte for every row.
import { decodeReading, type SignedReading } from "../../shared/reading.ts";
import { decodeTx, type AttachedReading, type DecodedTx } from "../../shared/tx.ts";
import { decodeBlockResults, type TxResult } from "../chain/reading-outcome.ts";
import { decodeHeader, type BlockHeader } from "../chain/block.ts";
import { decodeStoredBody, isPrunedReading, isPrunedTx, type PrunedTx, type StoredBody, type StoredTx } from "../chain/pruned-body.ts";
import type { Chain } from "../chain/chain.ts";
import { LruMap } from "../ingest/lru.ts";

export interface StoredBlockView {
  header: BlockHeader;
  hash: Uint8Array;
  /** Transaction bytes, or a pruned batch's remains (gateway/chain/pruned-body.ts) once readings expired. */
  txs: StoredTx[];
  lastCommit: Uint8Array | null;
  certificate: Uint8Array | null;
}

export interface LocatedReading {
  attached: AttachedReading;
  reading: SignedReading;
  /** Undefined when the batch holding it was pruned (its other readings expired). */
  tx: DecodedTx | undefined;
}

export class BlockReader {
  private readonly txs: LruMap<string, DecodedTx>;
  private readonly bodies: LruMap<string, StoredBody>;

  constructor(
    private readonly chain: Chain,
    txsCachedMax: number,
  ) {
    this.txs = new LruMap(txsCachedMax);
    this.bodies = new LruMap(Math.max(4, txsCachedMax >> 2));
  }

  block(height: number): StoredBlockView | undefined {
    const b = this.chain.store.block(height);
    if (!b) return undefined;
    const body = this.body(height, b.body);
    return { header: decodeHeader(b.header), hash: b.hash, txs: body.txs, lastCommit: body.lastCommit, certificate: b.certificate };
  }

  // Keyed by height and how many times expiry rewrote the body (gateway/chain/expiry.ts), so a
  // cached body or transaction is never served after its readings expired.
  private version(height: number): number {
    return this.chain.expiry.store.bodyVersion(height);
  }

  private body(height: number, bytes: Uint8Array): StoredBody {
    const key = `${height}/${this.version(height)}`;
    let body = this.bodies.get(key);
    if (!body) {
      body = decodeStoredBody(bytes);
      this.bodies.set(key, body);
    }
    return body;
  }

  /** A batch whose readings (some or all) expired: what the store keeps of it; undefined if not pruned. */
  prunedTx(height: number, index: number): PrunedTx | undefined {
    if (this.version(height) === 0) return undefined; // never pruned: no need to read the body
    const b = this.chain.store.block(height);
    const e = b ? this.body(height, b.body).txs[index] : undefined;
    return e && isPrunedTx(e) ? e : undefined;
  }

  /** Transaction `index` of the block at `height`, decoded (blocks are final: safe to cache). */
  /** What became of a finalized transaction (gateway/chain/reading-outcome.ts): its body's failure and each reading's outcome. */
  result(height: number, index: number): TxResult | undefined {
    const b = this.chain.store.block(height);
    if (!b) return undefined;
    return decodeBlockResults(b.results)[index];
  }

  tx(height: number, index: number): DecodedTx | undefined {
    const key = `${height}/${index}/${this.version(height)}`;
    let tx = this.txs.get(key);
    if (tx) return tx;
    const b = this.chain.store.block(height);
    if (!b) return undefined;
    const bytes = this.body(height, b.body).txs[index];
    if (!bytes || isPrunedTx(bytes)) return undefined;
    tx = decodeTx(bytes);
    this.txs.set(key, tx);
    return tx;
  }

  /** The reading at `position` of the batch transaction (height, txIndex); undefined if absent. */
  reading(height: number, txIndex: number, position: number): LocatedReading | undefined {
    const pruned = this.prunedTx(height, txIndex);
    if (pruned) {
      const r = pruned.readings[position];
      return r && !isPrunedReading(r) ? { attached: r, reading: decodeReading(r.bytes, this.chain.resolveKid), tx: undefined } : undefined;
    }
    const tx = this.tx(height, txIndex);
    if (!tx || tx.body.kind !== "readingBatch") return undefined;
    const attached = tx.body.readings[position];
    if (!attached) return undefined;
    return { attached, reading: decodeReading(attached.bytes, this.chain.resolveKid), tx };
  }
}
