// Rows of the indexes (gateway/storage/schema.ts) for a block: from the execution when the block
// is committed, or from the block's bytes and stored results when the indexes are rebuilt. Both
// paths must give the same rows; the rebuild path decodes readings without verifying them (they
// were verified when the block was committed) and takes only those whose outcome was "recorded".
import { toHex } from "../../shared/ed25519.ts";
import { decodeReading, readingDigest, type KidResolver } from "../../shared/reading.ts";
import { decodeTx, txTypeOfKind, type DecodedTx } from "../../shared/tx.ts";
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
 * Rows from a stored block: its transactions, their results (cbor([bstr result...])) and each
 * device's log size before the block (`logSize`, asked once per device).
 */
export function indexRowsFromStored(txBytes: Uint8Array[], resultsBytes: Uint8Array, logSize: (deviceId: Uint8Array) => number, resolveKid: KidResolver): IndexRows {
  const txs = txBytes.map(decodeTx);
  const results = decodeBlockResults(resultsBytes);
  const next = new Map<string, number>();
  const readings = txs.map((tx, t): IndexedReading[] => {
    if (tx.body.kind !== "readingBatch") return [];
    const out: IndexedReading[] = [];
    tx.body.readings.forEach((r, position) => {
      if (results[t].readings[position] !== readingOutcome.recorded) return;
      const reading = decodeReading(r.bytes, resolveKid);
      const hex = toHex(reading.deviceId);
      const logIndex = next.get(hex) ?? logSize(reading.deviceId);
      next.set(hex, logIndex + 1);
      out.push({ deviceId: reading.deviceId, sequence: reading.sequence, digest: readingDigest(r.bytes), receivedAtMs: r.receivedAtMs, position, logIndex, records: reading.records });
    });
    return out;
  });
  return indexRows(txs, readings, blockResultLeaves(resultsBytes));
}
