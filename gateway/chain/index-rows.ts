// Rows of the derived indexes (gateway/storage/schema.ts) for a block: from the execution when the
// block is committed, or from the block's bytes alone when the indexes are rebuilt. Both paths
// must give the same rows; the rebuild path decodes readings without verifying them (they were
// verified when the block was committed).
import { decodeReading, readingDigest } from "../../shared/reading.ts";
import { decodeTx, txTypeOfKind, type DecodedTx } from "../../shared/tx.ts";
import type { IndexRows } from "../storage/schema.ts";
import type { IndexedReading } from "./context.ts";

function counterparty(tx: DecodedTx): Uint8Array | null {
  const b = tx.body;
  switch (b.kind) {
    case "transfer":
      return b.to;
    case "revokeDevice":
    case "reportDevice":
      return b.deviceId;
    default:
      return null;
  }
}

export function indexRows(txs: DecodedTx[], readings: IndexedReading[][]): IndexRows {
  const rows: IndexRows = { txs: [], readings: [] };
  txs.forEach((tx, idx) => {
    rows.txs.push({ id: tx.id, idx, kind: txTypeOfKind(tx.body.kind), author: tx.authorId, counterparty: counterparty(tx) });
    for (const r of readings[idx]) {
      rows.readings.push({ deviceId: r.deviceId, sequence: r.sequence, receivedAtMs: r.receivedAtMs, txIndex: idx, position: r.position, gatewayId: tx.authorId, digest: r.digest });
    }
  });
  return rows;
}

export function indexRowsFromTxBytes(txBytes: Uint8Array[]): IndexRows {
  const txs = txBytes.map(decodeTx);
  const readings = txs.map((tx): IndexedReading[] => {
    if (tx.body.kind !== "readingBatch") return [];
    return tx.body.readings.map((r, position) => {
      const reading = decodeReading(r.bytes);
      return { deviceId: reading.deviceId, sequence: reading.sequence, digest: readingDigest(r.bytes), receivedAtMs: r.receivedAtMs, position };
    });
  });
  return indexRows(txs, readings);
}
