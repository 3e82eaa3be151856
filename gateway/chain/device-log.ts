// Each device's readings on chain form an append-only Merkle log with the RFC 6962 tree shape
// (shared/merkle.ts: leaf = H(0x00 || data), node = H(0x01 || left || right)), like a
// Certificate Transparency log per device. The device's state record holds the log's frontier (the
// roots of its perfect subtrees, largest first), so the sparse Merkle state root commits to every
// reading through its device, and a reading is proven against a header in two steps: the device
// record in the state tree, then the reading in the device's log (RFC 9162 §2.1.3 audit path).
//
// Why not one state-tree key per reading: each reading would rewrite ~20 tree nodes at random
// positions, and random node upserts dominated block commits at scale (bench:chain). A log append
// writes the new leaf and the subtree roots it completes (two rows on average), next to the
// device's previous entries, and touches the state tree once per device per block.
//
//   leaf data = cbor([sequence, digest, height, gatewayId, receivedAtMs])
import { encode } from "../../shared/cbor.ts";
import { emptyRoot, leafHash, nodeHash } from "../../shared/merkle.ts";
import { invariantFailed } from "./errors.ts";
import type { ReadingRecord } from "./records.ts";

/** A stored log node: perfect subtree `index` of height `level` (level 0 = leaves). */
export interface LogNode {
  deviceId: Uint8Array;
  level: number;
  index: number;
  hash: Uint8Array;
}

export interface LogNodeReader {
  logNode(deviceId: Uint8Array, level: number, index: number): Uint8Array | undefined;
}


export function readingLeafData(r: ReadingRecord): Uint8Array {
  return encode([r.sequence, r.digest, r.height, r.gatewayId, r.receivedAtMs]);
}

/**
 * Appends leaf number `size` (0-based) to a log with `frontier`; returns the new frontier and the
 * nodes to store. A perfect subtree completes for each trailing 1-bit of `size` (a binary counter).
 */
export function logAppend(deviceId: Uint8Array, frontier: Uint8Array[], size: number, data: Uint8Array): { frontier: Uint8Array[]; nodes: LogNode[] } {
  if (frontier.length !== popcount(size)) invariantFailed(`log frontier of ${frontier.length} peaks does not fit size ${size}`);
  const peaks = [...frontier];
  let hash = leafHash(data);
  const nodes: LogNode[] = [{ deviceId, level: 0, index: size, hash }];
  for (let level = 0; Math.floor(size / 2 ** level) % 2 === 1; level++) {
    hash = nodeHash(peaks.pop()!, hash);
    nodes.push({ deviceId, level: level + 1, index: Math.floor(size / 2 ** (level + 1)), hash });
  }
  peaks.push(hash);
  return { frontier: peaks, nodes };
}

function popcount(n: number): number {
  let c = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}

/** RFC 6962 Merkle tree hash of the whole log, from its frontier: H(p1, H(p2, ... pk)). */
export function logRoot(frontier: Uint8Array[]): Uint8Array {
  if (frontier.length === 0) return emptyRoot;
  let root = frontier[frontier.length - 1];
  for (let i = frontier.length - 2; i >= 0; i--) root = nodeHash(frontier[i], root);
  return root;
}

/** RFC 6962 §2.1's k: the largest power of two smaller than n (n > 1), where the MTH splits. */
export function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Hash of leaves [from, to) of a device's log, from stored perfect subtrees (RFC 6962 MTH). */
export function rangeHash(reader: LogNodeReader, deviceId: Uint8Array, from: number, to: number): Uint8Array {
  const n = to - from;
  if ((n & (n - 1)) === 0 && from % n === 0) {
    const level = Math.log2(n);
    const h = reader.logNode(deviceId, level, from / n);
    if (h === undefined) invariantFailed(`device log node ${level}/${from / n} is missing`);
    return h;
  }
  const k = largestPowerOfTwoBelow(n);
  return nodeHash(rangeHash(reader, deviceId, from, from + k), rangeHash(reader, deviceId, from + k, to));
}

/** Audit path of leaf `index` in a log of `size` leaves, bottom-up (RFC 6962 §2.1.1 PATH). */
export function logAuditPath(reader: LogNodeReader, deviceId: Uint8Array, index: number, size: number): Uint8Array[] {
  if (!(index >= 0 && index < size)) invariantFailed(`leaf ${index} is not in a log of ${size}`);
  const path: Uint8Array[] = [];
  let from = 0;
  let to = size;
  const stack: Uint8Array[] = [];
  while (to - from > 1) {
    const k = largestPowerOfTwoBelow(to - from);
    if (index < from + k) {
      stack.push(rangeHash(reader, deviceId, from + k, to));
      to = from + k;
    } else {
      stack.push(rangeHash(reader, deviceId, from, from + k));
      from += k;
    }
  }
  while (stack.length) path.push(stack.pop()!);
  return path;
}
