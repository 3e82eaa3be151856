// Rows of the indexes (gateway/storage/schema.ts) for a block: from the execution when the block
// is committed, or from the block's bytes and stored results when the indexes are rebuilt. Both
// paths must give the same rows; the rebuild path decodes readings without verifying them (they
// were verified when the block was committed) and takes only those whose outcome was "recorded".
import { deviceIdFromPublicKey, toHex } from "../../shared/ed25519.ts";
import { decodeReading, readingDigest, type KidResolver } from "../../shared/reading.ts";
import { decodeTx, txKinds, txTypeOfKind, type DecodedTx } from "../../shared/tx.ts";
import { isPrunedReading, isPrunedTx, type PrunedTx, type StoredTx } from "./pruned-body.ts";
import type { ContractIndexRows, IndexRows } from "../storage/schema.ts";
import type { IndexedReading } from "./context.ts";
import { blockResultLeaves, decodeBlockResults, decodeTxResult, readingOutcome } from "./reading-outcome.ts";

function counterparty(tx: DecodedTx): Uint8Array | null {
  const b = tx.body;
  switch (b.kind) {
    case "transfer":
      return b.to;
    case "revokeDevice":
    case "reportDevice":
    case "liftQuarantine":
      return b.deviceId;
    default:
      return null;
  }
}

/** CBOR head of a 3-element array: only a result with contract runs has one (reading-outcome.ts). */
const cborArray3 = 0x83;

/** Contract runs and events of a block, from its transactions' encoded results (in order). */
export function contractRows(results: Uint8Array[]): ContractIndexRows {
  const rows: ContractIndexRows = { runs: [], events: [] };
  results.forEach((bytes, txIndex) => {
    if (bytes[0] !== cborArray3) return; // most results (reading batches without subscribers) are not decoded
    (decodeTxResult(bytes).runs ?? []).forEach((run, runIndex) => {
      rows.runs.push({ contractId: run.contractId, txIndex, runIndex, position: run.position, gasUsed: run.gasUsed, failure: run.failure, events: run.events.length });
      run.events.forEach((e, eventIndex) => rows.events.push({ contractId: run.contractId, txIndex, runIndex, eventIndex, position: run.position, topic: e.topic, data: e.data }));
    });
  });
  return rows;
}

export function indexRows(txs: DecodedTx[], readings: IndexedReading[][], results: Uint8Array[]): IndexRows {
  const rows: IndexRows = { txs: [], readings: [], contracts: contractRows(results) };
  txs.forEach((tx, idx) => {
    rows.txs.push({ id: tx.id, idx, kind: txTypeOfKind(tx.body.kind), author: tx.authorId, counterparty: counterparty(tx) });
    for (const r of readings[idx]) {
      rows.readings.push({ deviceId: r.deviceId, sequence: r.sequence, receivedAtMs: r.receivedAtMs, txIndex: idx, position: r.position, gatewayId: tx.authorId, digest: r.digest, logIndex: r.logIndex, records: r.records });
    }
  });
  return rows;
}

/**
 * Rows from a stored block: its transactions (pruned or not, pruned-body.ts), their results
 * (cbor([bstr result...])) and each device's log size before the block (`logSize`, asked once per
 * device). A pruned reading keeps its row (digest, device, sequence) and has no values.
 */
export function indexRowsFromStored(stored: StoredTx[], resultsBytes: Uint8Array, logSize: (deviceId: Uint8Array) => number, resolveKid: KidResolver): IndexRows {
  const results = decodeBlockResults(resultsBytes);
  const rows: IndexRows = { txs: [], readings: [], contracts: contractRows(blockResultLeaves(resultsBytes)) };
  const next = new Map<string, number>();
  stored.forEach((entry, idx) => {
    const tx = isPrunedTx(entry) ? undefined : decodeTx(entry);
    const authorId = tx ? tx.authorId : deviceIdFromPublicKey((entry as PrunedTx).author);
    if (tx) rows.txs.push({ id: tx.id, idx, kind: txTypeOfKind(tx.body.kind), author: tx.authorId, counterparty: counterparty(tx) });
    else rows.txs.push({ id: (entry as PrunedTx).txId, idx, kind: txKinds.readingBatch, author: authorId, counterparty: null });
    const readings = tx ? (tx.body.kind === "readingBatch" ? tx.body.readings : []) : (entry as PrunedTx).readings;
    readings.forEach((r, position) => {
      if (results[idx].readings[position] !== readingOutcome.recorded) return;
      const pruned = isPrunedReading(r);
      const reading = pruned ? undefined : decodeReading(r.bytes, resolveKid);
      const deviceId = pruned ? r.deviceId : reading!.deviceId;
      const sequence = pruned ? r.sequence : reading!.sequence;
      if (deviceId === null || sequence === null) throw new Error(`block transaction ${idx}: recorded reading ${position} was pruned without its device and sequence`);
      const hex = toHex(deviceId);
      const logIndex = next.get(hex) ?? logSize(deviceId);
      next.set(hex, logIndex + 1);
      const digest = pruned ? r.digest : readingDigest(r.bytes);
      rows.readings.push({ deviceId, sequence, receivedAtMs: r.receivedAtMs, txIndex: idx, position, gatewayId: authorId, digest, logIndex, records: reading?.records ?? [] });
    });
  });
  return rows;
}
