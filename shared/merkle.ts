// Binary Merkle tree over SHA-256 with the RFC 6962 §2.1 shape and domain separation
// (leaf = H(0x00 || data), node = H(0x01 || left || right), split at the largest power of two
// below n). Used for gateway co-signatures over reading batches and for blocks' transaction roots.
import { sha256 } from "./ed25519.ts";

// One preimage buffer, reused: crypto.hash has read it when it returns. A fresh array per node was
// 65 bytes, past V8's 64-byte limit for arrays on its heap, so each was a malloc'd store (device logs
// hash ~2 nodes per reading on every validator).
let scratch = new Uint8Array(256);
function preimage(bytes: number): Uint8Array {
  if (bytes > 1 << 16) return new Uint8Array(bytes); // a large leaf: not kept
  if (scratch.length < bytes) scratch = new Uint8Array(Math.max(bytes, 2 * scratch.length));
  return scratch.subarray(0, bytes);
}

/** RFC 6962 §2.1 leaf: H(0x00 || data). */
export function leafHash(data: Uint8Array): Uint8Array {
  const b = preimage(1 + data.length);
  b[0] = 0;
  b.set(data, 1);
  return sha256(b);
}

/** RFC 6962 §2.1 interior node: H(0x01 || left || right). */
export function nodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  const b = preimage(1 + left.length + right.length);
  b[0] = 1;
  b.set(left, 1);
  b.set(right, 1 + left.length);
  return sha256(b);
}

/** Root of an empty tree: SHA-256 of the empty string (RFC 6962 §2.1). */
export const emptyRoot = sha256(new Uint8Array(0));

function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function rootOfHashes(leaves: Uint8Array[], from: number, to: number): Uint8Array {
  const n = to - from;
  if (n === 1) return leaves[from];
  const k = split(n);
  return nodeHash(rootOfHashes(leaves, from, from + k), rootOfHashes(leaves, from + k, to));
}

/** Merkle root of already-hashed leaves (see leafHash). */
export function merkleRoot(leafHashes: Uint8Array[]): Uint8Array {
  return leafHashes.length === 0 ? emptyRoot : rootOfHashes(leafHashes, 0, leafHashes.length);
}

/** Audit path for leaf `index` (RFC 6962 §2.1.1), bottom-up. */
export function inclusionProof(leafHashes: Uint8Array[], index: number): Uint8Array[] {
  if (!Number.isInteger(index) || index < 0 || index >= leafHashes.length) throw new RangeError(`leaf ${index} not in a tree of ${leafHashes.length}`);
  const path: Uint8Array[] = [];
  let from = 0;
  let to = leafHashes.length;
  const stack: Uint8Array[] = [];
  while (to - from > 1) {
    const k = split(to - from);
    if (index < from + k) {
      stack.push(rootOfHashes(leafHashes, from + k, to));
      to = from + k;
    } else {
      stack.push(rootOfHashes(leafHashes, from, from + k));
      from += k;
    }
  }
  while (stack.length) path.push(stack.pop()!);
  return path;
}

/** Verifies an audit path (RFC 9162 §2.1.3.2 algorithm). */
export function verifyInclusion(leaf: Uint8Array, index: number, size: number, path: Uint8Array[], root: Uint8Array): boolean {
  if (!Number.isInteger(index) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn === 0 && Buffer.compare(r, root) === 0;
}
