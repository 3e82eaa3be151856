// Decoded blocks and transactions for the API, with a small cache. A reading's payload lives only
// in its block body (the index keeps its position), and a batch transaction carries up to 4,096
// readings: a page of readings usually falls in a few batches, so decoding each batch once and
// keeping the last few avoids decoding the same megabyte for every row.
import { decodeReading, type SignedReading } from "../../shared/reading.ts";
import { decodeTx, type AttachedReading, type DecodedTx } from "../../shared/tx.ts";
import { decodeBlockResults, type TxResult } from "../chain/reading-outcome.ts";
import { decodeBody, decodeHeader, type Block, type BlockHeader } from "../chain/block.ts";
import type { Chain } from "../chain/chain.ts";
import { LruMap } from "../ingest/lru.ts";

export interface StoredBlockView {
  header: BlockHeader;
  hash: Uint8Array;
  txs: Uint8Array[];
  lastCommit: Uint8Array | null;
  certificate: Uint8Array | null;
}

export interface LocatedReading {
  attached: AttachedReading;
  reading: SignedReading;
  tx: DecodedTx;
}

export class BlockReader {
  private readonly txs: LruMap<string, DecodedTx>;
  private readonly bodies: LruMap<number, Pick<Block, "txs" | "lastCommit">>;

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

  private body(height: number, bytes: Uint8Array): Pick<Block, "txs" | "lastCommit"> {
    let body = this.bodies.get(height);
    if (!body) {
      body = decodeBody(bytes);
      this.bodies.set(height, body);
    }
    return body;
  }

  /** Transaction `index` of the block at `height`, decoded (blocks are final: safe to cache). */
  /** What became of a finalized transaction (gateway/chain/reading-outcome.ts): its body's failure and each reading's outcome. */
  result(height: number, index: number): TxResult | undefined {
    const b = this.chain.store.block(height);
    if (!b) return undefined;
    return decodeBlockResults(b.results)[index];
  }

  tx(height: number, index: number): DecodedTx | undefined {
    const key = `${height}/${index}`;
    let tx = this.txs.get(key);
    if (tx) return tx;
    const b = this.chain.store.block(height);
    if (!b) return undefined;
    const bytes = this.body(height, b.body).txs[index];
    if (!bytes) return undefined;
    tx = decodeTx(bytes);
    this.txs.set(key, tx);
    return tx;
  }

  /** The reading at `position` of the batch transaction (height, txIndex); undefined if absent. */
  reading(height: number, txIndex: number, position: number): LocatedReading | undefined {
    const tx = this.tx(height, txIndex);
    if (!tx || tx.body.kind !== "readingBatch") return undefined;
    const attached = tx.body.readings[position];
    if (!attached) return undefined;
    return { attached, reading: decodeReading(attached.bytes, this.chain.resolveKid), tx };
  }
}
