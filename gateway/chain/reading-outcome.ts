// What became of each reading of a batch, and of each transaction of a block: the block's results.
// They are part of consensus: every node computes the same results, the header commits to them
// (resultsRoot, an RFC 6962 root over one leaf per transaction), and the gateway that submitted
// a batch learns from them what to do with each reading it acknowledged.
//
//   result of a transaction = cbor([failure, [reading outcome...]])
//     failure: null when the transaction's body applied, else the reject code of a body that
//              failed after its envelope applied (fee paid, nonce used: see apply-tx.ts)
//     reading outcome: one small integer per reading of a batch, in batch order
//   a transaction that ran contracts has a third element (results without runs keep the two):
//   = cbor([failure, [reading outcome...], [contract run...]])   gateway/contracts/records.ts runToCbor
import { decode, encode, type CborValue } from "../../shared/cbor.ts";
import { leafHash, merkleRoot } from "../../shared/merkle.ts";
import { runFromCbor, runToCbor, type ContractRun } from "../contracts/records.ts";

export const readingOutcome = {
  /** Appended to its device's log: the reading is on chain. */
  recorded: 0,
  /** The same reading (same digest) is already on chain: nothing changes. */
  duplicate: 1,
  /** Another reading with this device and sequence is on chain: the device is quarantined. */
  equivocation: 2,
  malformed: 3,
  deviceUnknown: 4,
  /** Revoked or quarantined before the gateway received the reading. */
  deviceNotActive: 5,
  badSignature: 6,
  /** Received after the block's time plus drift: a later block may take it. */
  fromFuture: 7,
  /** More than the sequence window below the device's highest: cannot be checked any more. */
  stale: 8,
} as const;
export type ReadingOutcome = (typeof readingOutcome)[keyof typeof readingOutcome];

export const readingOutcomeNames: Record<ReadingOutcome, string> = {
  0: "READING_RECORDED",
  1: "READING_DUPLICATE",
  2: "READING_EQUIVOCATION",
  3: "READING_MALFORMED",
  4: "DEVICE_UNKNOWN",
  5: "DEVICE_NOT_ACTIVE",
  6: "READING_BAD_SIGNATURE",
  7: "READING_FROM_FUTURE",
  8: "READING_SEQUENCE_STALE",
};

export interface TxResult {
  /** Reject code of a body that failed after its envelope applied; null when it applied. */
  failure: string | null;
  readings: ReadingOutcome[];
  /** Contract runs: a call's, or those its readings triggered, in order (with their gas and events). */
  runs?: ContractRun[];
}

export const appliedResult: TxResult = { failure: null, readings: [] };

export function encodeTxResult(r: TxResult): Uint8Array {
  return encode(r.runs?.length ? [r.failure, r.readings, r.runs.map(runToCbor)] : [r.failure, r.readings]);
}

export function decodeTxResult(bytes: Uint8Array): TxResult {
  const v = decode(bytes) as CborValue[];
  if (!Array.isArray(v) || (v.length !== 2 && v.length !== 3) || !(v[0] === null || typeof v[0] === "string") || !Array.isArray(v[1])) throw new TypeError("transaction result must be [failure, [outcome...]] or [failure, [outcome...], [run...]]");
  const readings = (v[1] as CborValue[]).map((o) => {
    if (typeof o !== "number" || !Number.isInteger(o) || o < 0 || o > 8) throw new TypeError(`reading outcome ${String(o)} out of range`);
    return o as ReadingOutcome;
  });
  if (v.length === 3) {
    if (!Array.isArray(v[2])) throw new TypeError("contract runs must be an array");
    return { failure: v[0] as string | null, readings, runs: v[2].map(runFromCbor) };
  }
  return { failure: v[0] as string | null, readings };
}

/** The header's resultsRoot: RFC 6962 root over the encoded results, one leaf per transaction. */
export function resultsRootOf(results: Uint8Array[]): Uint8Array {
  return merkleRoot(results.map(leafHash));
}


/** A block's results as stored beside its body: cbor([bstr result...]). */
export function encodeBlockResults(results: Uint8Array[]): Uint8Array {
  return encode(results);
}

export function decodeBlockResults(bytes: Uint8Array): TxResult[] {
  return blockResultLeaves(bytes).map(decodeTxResult);
}

/** The encoded results of a stored block, one per transaction (the leaves under resultsRoot). */
export function blockResultLeaves(bytes: Uint8Array): Uint8Array[] {
  const v = decode(bytes);
  if (!Array.isArray(v) || !v.every((r) => r instanceof Uint8Array)) throw new TypeError("block results must be an array of byte strings");
  return v as Uint8Array[];
}
