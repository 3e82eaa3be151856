// Sparse Merkle tree over SHA-256 with 256-bit keys, in its compact form: a subtree holding one
// key is stored as that key's leaf, wherever it sits, so a tree of n random keys is about log2(n)
// deep instead of 256. The hash of a subtree depends only on the set of (key, value) pairs in it:
//
//   empty     = 32 zero bytes                     (so every empty subtree hashes the same, at any
//                                                   depth: the "precomputed defaults" are one constant)
//   leaf      = SHA-256(0x00 || keyHash || valueHash)      for a subtree with exactly one key
//   internal  = SHA-256(0x01 || left || right)             for a subtree with two keys or more
//
// A node's stored body is exactly its hash preimage (65 bytes), so a node read from disk is
// checked against the hash its parent holds before it is trusted. Nodes are stored by position
// (depth + key-prefix bits), so updates rewrite only the touched paths; the node store is the
// caller's (SQLite in gateway/storage, a Map in tests). Updates come in batches, one per block:
// each touched node is rewritten once however many keys below it changed.
import { hash } from "node:crypto";
import { invariant, invariantFailed } from "./errors.ts";

export const zeroHash = new Uint8Array(32);
export const nodeBodyBytes = 65;

/** Stored nodes by position id (see positionId). */
export interface SmtNodeReader {
  node(id: string): Uint8Array | undefined;
}

/** A key's new value hash, or null to delete the key. */
export interface SmtUpdate {
  keyHash: Uint8Array;
  valueHash: Uint8Array | null;
}

/** Node writes of one update: body to store, or null to delete. */
export type SmtWrites = Map<string, Uint8Array | null>;

export function hashBody(body: Uint8Array): Uint8Array {
  return hash("sha256", body, "buffer");
}

/**
 * Hashes of node bodies already computed. A store hands out the same object for a cached node, so
 * a hot node is hashed once, not on every read, and still compared with what its parent expects;
 * a body fresh from disk is a new object and is hashed.
 */
const bodyHashes = new WeakMap<Uint8Array, Uint8Array>();

export function leafBody(keyHash: Uint8Array, valueHash: Uint8Array): Uint8Array {
  const b = new Uint8Array(nodeBodyBytes);
  b[0] = 0;
  b.set(keyHash, 1);
  b.set(valueHash, 33);
  return b;
}

function internalBody(left: Uint8Array, right: Uint8Array): Uint8Array {
  const b = new Uint8Array(nodeBodyBytes);
  b[0] = 1;
  b.set(left, 1);
  b.set(right, 33);
  return b;
}

export const isLeaf = (body: Uint8Array): boolean => body[0] === 0;
export const bodyLeft = (body: Uint8Array): Uint8Array => body.subarray(1, 33);
export const bodyRight = (body: Uint8Array): Uint8Array => body.subarray(33, 65);
const isZero = (h: Uint8Array): boolean => h.every((b) => b === 0);

/** Bit `depth` of a key hash, most significant first; 0 goes left. */
export function keyBit(keyHash: Uint8Array, depth: number): number {
  return (keyHash[depth >> 3] >> (7 - (depth & 7))) & 1;
}

/**
 * Position of the subtree at `depth` on `keyHash`'s path: 2 bytes of depth, then the first
 * `depth` bits of the key with the rest zeroed. With `flipLast`, the sibling's position instead.
 * Returned as a latin1 string: a cheap Map key that converts to a BLOB without loss.
 */
export function positionId(keyHash: Uint8Array, depth: number, flipLast = false): string {
  const prefixBytes = (depth + 7) >> 3;
  const b = positionScratch;
  b[0] = depth >> 8;
  b[1] = depth & 0xff;
  for (let i = 0; i < prefixBytes; i++) b[2 + i] = keyHash[i];
  if (depth & 7) b[1 + prefixBytes] &= (0xff << (8 - (depth & 7))) & 0xff;
  if (flipLast) b[2 + ((depth - 1) >> 3)] ^= 0x80 >> ((depth - 1) & 7);
  return b.toString("latin1", 0, 2 + prefixBytes);
}
// One scratch buffer: ids are built millions of times per bench run; allocating each showed in GC.
const positionScratch = Buffer.alloc(2 + 32);

export const rootPositionId = positionId(zeroHash, 0);

const compareKeys = (a: SmtUpdate, b: SmtUpdate): number => Buffer.compare(a.keyHash, b.keyHash);

class Updater {
  readonly writes: SmtWrites = new Map();
  constructor(private readonly reader: SmtNodeReader) {}

  /** Reads a node the parent says exists, checking it against the hash the parent holds. */
  read(id: string, expected: Uint8Array): Uint8Array {
    const body = this.reader.node(id);
    if (body === undefined) invariantFailed(`sparse Merkle node ${Buffer.from(id, "latin1").toString("hex")} is missing from the store`);
    let h = bodyHashes.get(body);
    if (h === undefined) {
      h = hashBody(body);
      bodyHashes.set(body, h);
    }
    if (Buffer.compare(h, expected) !== 0) invariantFailed(`sparse Merkle node ${Buffer.from(id, "latin1").toString("hex")} does not match its parent's hash`);
    return body;
  }

  /** First index in [lo, hi) whose key has bit `depth` set (keys are sorted). */
  split(ups: SmtUpdate[], lo: number, hi: number, depth: number): number {
    let i = lo;
    while (i < hi && keyBit(ups[i].keyHash, depth) === 0) i++;
    return i;
  }

  /** Builds a fresh subtree from sorted leaves; writes its children, returns its own body. */
  build(depth: number, leaves: SmtUpdate[], lo: number, hi: number): Uint8Array | undefined {
    if (hi === lo) return undefined;
    if (hi - lo === 1) return leafBody(leaves[lo].keyHash, leaves[lo].valueHash!);
    invariant(depth < 256, "two distinct keys share all 256 bits");
    const m = this.split(leaves, lo, hi, depth);
    const left = this.build(depth + 1, leaves, lo, m);
    const right = this.build(depth + 1, leaves, m, hi);
    if (left) this.writes.set(positionId(leaves[lo].keyHash, depth + 1), left);
    if (right) this.writes.set(positionId(leaves[m].keyHash, depth + 1), right);
    return internalBody(left ? hashBody(left) : zeroHash, right ? hashBody(right) : zeroHash);
  }

  /** New body of the subtree at `depth` (currently `body`) after the sorted updates [lo, hi). */
  update(depth: number, body: Uint8Array | undefined, ups: SmtUpdate[], lo: number, hi: number): Uint8Array | undefined {
    if (body === undefined || isLeaf(body)) return this.rebuild(depth, body, ups, lo, hi);
    const m = this.split(ups, lo, hi, depth);
    const left = lo < m ? this.child(depth + 1, bodyLeft(body), ups, lo, m) : { hash: bodyLeft(body), body: undefined };
    const right = m < hi ? this.child(depth + 1, bodyRight(body), ups, m, hi) : { hash: bodyRight(body), body: undefined };
    const leftEmpty = isZero(left.hash);
    const rightEmpty = isZero(right.hash);
    if (leftEmpty && rightEmpty) return undefined;
    if (leftEmpty || rightEmpty) {
      // One child left: if it is a single leaf, it moves up here (compact form); its old slot goes.
      const keyForPath = ups[lo].keyHash;
      const goneRight = rightEmpty;
      const survivorId = positionId(keyForPath, depth + 1, keyBit(keyForPath, depth) === (goneRight ? 1 : 0));
      const survivor = (goneRight ? left : right).body ?? this.read(survivorId, (goneRight ? left : right).hash);
      if (isLeaf(survivor)) {
        this.writes.set(survivorId, null);
        return survivor;
      }
    }
    return internalBody(left.hash, right.hash);
  }

  private child(depth: number, hash: Uint8Array, ups: SmtUpdate[], lo: number, hi: number): { hash: Uint8Array; body: Uint8Array | undefined } {
    const id = positionId(ups[lo].keyHash, depth);
    const current = isZero(hash) ? undefined : this.read(id, hash);
    const next = this.update(depth, current, ups, lo, hi);
    if (next !== undefined || current !== undefined) this.writes.set(id, next ?? null);
    return { hash: next ? hashBody(next) : zeroHash, body: next };
  }

  /** An empty or single-leaf subtree: merge its leaf with the updates and build anew. */
  private rebuild(depth: number, body: Uint8Array | undefined, ups: SmtUpdate[], lo: number, hi: number): Uint8Array | undefined {
    const leaves: SmtUpdate[] = [];
    let existing: SmtUpdate | undefined = body ? { keyHash: bodyLeft(body), valueHash: bodyRight(body) } : undefined;
    for (let i = lo; i < hi; i++) {
      const u = ups[i];
      if (existing && Buffer.compare(existing.keyHash, u.keyHash) < 0) {
        leaves.push(existing);
        existing = undefined;
      }
      if (existing && Buffer.compare(existing.keyHash, u.keyHash) === 0) existing = undefined; // overridden
      if (u.valueHash !== null) leaves.push(u);
    }
    if (existing) leaves.push(existing);
    return this.build(depth, leaves, 0, leaves.length);
  }
}

/**
 * Applies a batch of updates to the tree whose root node the reader holds. Returns the new root
 * hash and the node writes (to be stored atomically with the block). The reader is not modified.
 */
export function smtApply(reader: SmtNodeReader, updates: SmtUpdate[]): { root: Uint8Array; writes: SmtWrites } {
  const ups = [...updates].sort(compareKeys);
  for (let i = 1; i < ups.length; i++) invariant(compareKeys(ups[i - 1], ups[i]) !== 0, "a key is updated twice in one batch");
  const u = new Updater(reader);
  const rootBody = reader.node(rootPositionId);
  if (ups.length === 0) return { root: rootBody ? hashBody(rootBody) : zeroHash, writes: u.writes };
  const next = u.update(0, rootBody, ups, 0, ups.length);
  if (next !== undefined || rootBody !== undefined) u.writes.set(rootPositionId, next ?? null);
  return { root: next ? hashBody(next) : zeroHash, writes: u.writes };
}

/** Root hash of the stored tree. */
export function smtRoot(reader: SmtNodeReader): Uint8Array {
  const body = reader.node(rootPositionId);
  return body ? hashBody(body) : zeroHash;
}

/** A node store in memory (tests, replays, tools). */
export class MemoryNodeStore implements SmtNodeReader {
  readonly nodes = new Map<string, Uint8Array>();
  node(id: string): Uint8Array | undefined {
    return this.nodes.get(id);
  }
  apply(writes: SmtWrites): void {
    for (const [id, body] of writes) {
      if (body === null) this.nodes.delete(id);
      else this.nodes.set(id, body);
    }
  }
}
