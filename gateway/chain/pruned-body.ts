// A stored block body whose expired readings were pruned (expiry.ts, docs/expiry.md). A batch
// transaction's bytes cannot lose a reading and keep SHA-256(unsigned) or its Merkle leaf, so a
// pruned transaction is stored as what still proves and indexes it:
//
//   body   = cbor([[entry...], lastCommit])                  as block.ts encodeBody, plus:
//   entry  = bstr tx                                         not pruned (the block's bytes as sent)
//          | [leafHash (32), txId (32), author (32), bstr attestation, [reading...]]   a pruned batch
//   reading = [bstr COSE_Sign1, receivedAtMs]                kept (not expired yet), as in the batch
//           | [digest (32), receivedAtMs, device id (16) / null, sequence / null]   pruned: its bytes are
//             gone; device and sequence are kept for a recorded reading (index rebuild), null otherwise
//
// The leaf hashes keep the header's txRoot provable (verifyChain), the digests and receipt times keep
// the gateway's attested Merkle root provable, and each recorded digest stays in its device's log
// under every later state root. What the pruned form cannot prove any more is the reading's values:
// those are gone by design. A pruned body is never served as a block (chain.ts blockAt refuses it).
import { decode, encode, type CborValue } from "../../shared/cbor.ts";
import { leafHash, merkleRoot } from "../../shared/merkle.ts";
import { readingBytesMax, readingDigest } from "../../shared/reading.ts";
import { batchReadingsMax, encodeAttestation } from "../../shared/attestation.ts";
import { decodeTx, txBytesMax, type AttachedReading } from "../../shared/tx.ts";
import { blockTxsWireMax } from "./block.ts";
import { BlockError } from "./errors.ts";

export interface PrunedReading {
  digest: Uint8Array;
  receivedAtMs: number;
  /** Kept for a recorded reading (the index needs them); null for one the chain did not record. */
  deviceId: Uint8Array | null;
  sequence: number | null;
}

export interface PrunedTx {
  leafHash: Uint8Array;
  txId: Uint8Array;
  /** The batch author's Ed25519 public key (the gateway). */
  author: Uint8Array;
  /** The batch's attestation bytes (shared/attestation.ts encodeAttestation). */
  attestation: Uint8Array;
  readings: (AttachedReading | PrunedReading)[];
}

export type StoredTx = Uint8Array | PrunedTx;

export interface StoredBody {
  txs: StoredTx[];
  lastCommit: Uint8Array | null;
}

export const isPrunedTx = (e: StoredTx): e is PrunedTx => !(e instanceof Uint8Array);
export const isPrunedReading = (r: AttachedReading | PrunedReading): r is PrunedReading => "digest" in r;

function fail(message: string): never {
  throw new BlockError("BLOCK_MALFORMED", `stored body: ${message}`);
}

const bytesOf = (v: CborValue, n: number, what: string): Uint8Array => (v instanceof Uint8Array && v.length === n ? v : fail(`${what} must be ${n} bytes`));
const uintOf = (v: CborValue, what: string): number => (typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : fail(`${what} must be an unsigned integer below 2^53`));

function readingToCbor(r: AttachedReading | PrunedReading): CborValue {
  return isPrunedReading(r) ? [r.digest, r.receivedAtMs, r.deviceId, r.sequence] : [r.bytes, r.receivedAtMs];
}

function readingFromCbor(v: CborValue): AttachedReading | PrunedReading {
  if (!Array.isArray(v)) fail("a reading must be an array");
  if (v.length === 2) {
    const [bytes, at] = v;
    if (!(bytes instanceof Uint8Array) || bytes.length > readingBytesMax) fail(`a kept reading must be a byte string of at most ${readingBytesMax} bytes`);
    return { bytes, receivedAtMs: uintOf(at, "receivedAtMs") };
  }
  if (v.length !== 4) fail("a reading must be [bytes, receivedAtMs] or [digest, receivedAtMs, device, sequence]");
  const [digest, at, device, sequence] = v;
  if ((device === null) !== (sequence === null)) fail("a pruned reading has both device and sequence, or neither");
  return {
    digest: bytesOf(digest, 32, "a pruned reading's digest"),
    receivedAtMs: uintOf(at, "receivedAtMs"),
    deviceId: device === null ? null : bytesOf(device, 16, "a pruned reading's device id"),
    sequence: sequence === null ? null : uintOf(sequence, "a pruned reading's sequence"),
  };
}

function entryToCbor(e: StoredTx): CborValue {
  return e instanceof Uint8Array ? e : [e.leafHash, e.txId, e.author, e.attestation, e.readings.map(readingToCbor)];
}

function entryFromCbor(v: CborValue): StoredTx {
  if (v instanceof Uint8Array) return v;
  if (!Array.isArray(v) || v.length !== 5) fail("each transaction must be a byte string or a pruned batch [leaf, id, author, attestation, readings]");
  const [leaf, id, author, attestation, readings] = v;
  if (!(attestation instanceof Uint8Array) || attestation.length > 256) fail("a pruned batch's attestation must be a byte string of at most 256 bytes");
  if (!Array.isArray(readings) || readings.length === 0 || readings.length > batchReadingsMax) fail(`a pruned batch holds 1 to ${batchReadingsMax} readings`);
  return { leafHash: bytesOf(leaf, 32, "leaf hash"), txId: bytesOf(id, 32, "transaction id"), author: bytesOf(author, 32, "author"), attestation, readings: readings.map(readingFromCbor) };
}

export function encodeStoredBody(b: StoredBody): Uint8Array {
  return encode([b.txs.map(entryToCbor), b.lastCommit]);
}

/** Decodes a stored body, pruned or not (every stored body decodes here; block.ts decodeBody only the unpruned). */
export function decodeStoredBody(bytes: Uint8Array): StoredBody {
  let v: CborValue;
  try {
    v = decode(bytes, { depthMax: 5, itemsMax: blockTxsWireMax, bytesMax: txBytesMax });
  } catch (e) {
    return fail(`not deterministic CBOR within limits: ${(e as Error).message}`);
  }
  if (!Array.isArray(v) || v.length !== 2 || !Array.isArray(v[0])) fail("must be [[tx...], lastCommit]");
  const lastCommit = v[1];
  if (lastCommit !== null && !(lastCommit instanceof Uint8Array)) fail("lastCommit must be a byte string or null");
  return { txs: v[0].map(entryFromCbor), lastCommit };
}

/** The transaction's Merkle leaf under the header's txRoot, pruned or not. */
export function storedTxLeaf(e: StoredTx): Uint8Array {
  return e instanceof Uint8Array ? leafHash(e) : e.leafHash;
}

export function storedTxRoot(txs: StoredTx[]): Uint8Array {
  return merkleRoot(txs.map(storedTxLeaf));
}

/** What the pruner knows of a reading it prunes: device and sequence when the chain recorded it. */
export type PruneTarget = { deviceId: Uint8Array; sequence: number } | null;

/**
 * Prunes readings of one stored batch. `prune` names the positions to prune (with their device and
 * sequence if recorded). Readings the chain did not record (duplicates, rejected) belong to no
 * device's retention; they are pruned with the first pruning of their batch. Returns the entry
 * unchanged when there is nothing to prune.
 */
export function pruneStoredTx(e: StoredTx, prune: Map<number, PruneTarget>, recorded: (position: number) => boolean): StoredTx {
  let base: PrunedTx;
  if (e instanceof Uint8Array) {
    const tx = decodeTx(e);
    if (tx.body.kind !== "readingBatch") fail(`transaction ${Buffer.from(tx.id).toString("hex")} is not a reading batch: nothing to prune`);
    base = { leafHash: leafHash(e), txId: tx.id, author: tx.author, attestation: encodeAttestation(tx.body.attestation), readings: tx.body.readings };
  } else base = e;
  const first = !isPrunedTx(e);
  let changed = false;
  const readings = base.readings.map((r, position) => {
    if (isPrunedReading(r)) return r;
    const target = prune.get(position);
    if (target === undefined && !(first && !recorded(position))) return r;
    changed = true;
    return { digest: readingDigest(r.bytes), receivedAtMs: r.receivedAtMs, deviceId: target?.deviceId ?? null, sequence: target?.sequence ?? null };
  });
  return changed ? { ...base, readings } : e;
}
