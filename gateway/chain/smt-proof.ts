// Inclusion and non-inclusion proofs for the compact sparse Merkle tree (smt.ts). A proof is the
// list of sibling hashes from the root down to where the key's path ends, and what it ends on:
//
//   - the key's own leaf           → inclusion of (key, value)
//   - an empty subtree (null)      → non-inclusion
//   - another key's leaf           → non-inclusion: that key holds the whole subtree the path enters,
//                                    so the proven key cannot be in it (the verifier checks the two
//                                    keys share the path's prefix, else the leaf could sit elsewhere)
//
// The verifier needs nothing but the root (a block header's state root): it folds the siblings
// back up along the key's bits and compares.
import { decode, encode, type CborValue } from "../../shared/cbor.ts";
import { ChainError } from "./errors.ts";
import { bodyLeft, bodyRight, hashBody, isLeaf, keyBit, leafBody, positionId, rootPositionId, zeroHash, type SmtNodeReader } from "./smt.ts";
import { invariant } from "./errors.ts";

export interface SmtProof {
  /** Sibling hashes, root level first; its length is the depth where the path ends. */
  siblings: Uint8Array[];
  /** The leaf the path ends on, or null for an empty subtree. */
  terminal: { keyHash: Uint8Array; valueHash: Uint8Array } | null;
}

const depthMax = 256;

/** Walks the stored tree along `keyHash` and collects the proof. */
export function smtProve(reader: SmtNodeReader, keyHash: Uint8Array): SmtProof {
  const siblings: Uint8Array[] = [];
  let body = reader.node(rootPositionId);
  let depth = 0;
  while (body !== undefined && !isLeaf(body)) {
    invariant(depth < depthMax, "sparse Merkle path deeper than 256");
    const bit = keyBit(keyHash, depth);
    const next = bit ? bodyRight(body) : bodyLeft(body);
    siblings.push((bit ? bodyLeft(body) : bodyRight(body)).slice());
    depth++;
    if (next.every((b) => b === 0)) {
      body = undefined;
      break;
    }
    const child = reader.node(positionId(keyHash, depth));
    invariant(child !== undefined && Buffer.compare(hashBody(child), next) === 0, "sparse Merkle node missing or not matching its parent");
    body = child;
  }
  return { siblings, terminal: body ? { keyHash: bodyLeft(body).slice(), valueHash: bodyRight(body).slice() } : null };
}

function sharesPrefix(a: Uint8Array, b: Uint8Array, bits: number): boolean {
  for (let i = 0; i < bits; i++) if (keyBit(a, i) !== keyBit(b, i)) return false;
  return true;
}

/**
 * Verifies a proof against a root: with `valueHash` it proves the key holds that value; with null
 * it proves the key is absent. Never throws on malformed proofs; answers false.
 */
export function smtVerify(root: Uint8Array, keyHash: Uint8Array, valueHash: Uint8Array | null, proof: SmtProof): boolean {
  const { siblings, terminal } = proof;
  if (siblings.length > depthMax || keyHash.length !== 32 || root.length !== 32) return false;
  if (siblings.some((s) => !(s instanceof Uint8Array) || s.length !== 32)) return false;
  let h: Uint8Array;
  if (valueHash !== null) {
    if (!terminal || Buffer.compare(terminal.keyHash, keyHash) !== 0 || Buffer.compare(terminal.valueHash, valueHash) !== 0) return false;
    h = hashBody(leafBody(keyHash, valueHash));
  } else if (terminal === null) {
    h = zeroHash;
  } else {
    if (terminal.keyHash.length !== 32 || terminal.valueHash.length !== 32) return false;
    if (Buffer.compare(terminal.keyHash, keyHash) === 0 || !sharesPrefix(terminal.keyHash, keyHash, siblings.length)) return false;
    h = hashBody(leafBody(terminal.keyHash, terminal.valueHash));
  }
  for (let depth = siblings.length - 1; depth >= 0; depth--) {
    const body = new Uint8Array(65);
    body[0] = 1;
    const bit = keyBit(keyHash, depth);
    body.set(bit ? siblings[depth] : h, 1);
    body.set(bit ? h : siblings[depth], 33);
    h = hashBody(body);
  }
  return Buffer.compare(h, root) === 0;
}

/** CBOR form for the API: [[sibling...], null | [keyHash, valueHash]]. */
export function encodeSmtProof(p: SmtProof): Uint8Array {
  return encode([p.siblings, p.terminal ? [p.terminal.keyHash, p.terminal.valueHash] : null]);
}

export function decodeSmtProof(bytes: Uint8Array): SmtProof {
  let v: CborValue;
  try {
    v = decode(bytes, { depthMax: 3, itemsMax: depthMax, bytesMax: 32 });
  } catch (e) {
    throw new ChainError("PROOF_MALFORMED", `proof is not deterministic CBOR: ${(e as Error).message}`);
  }
  const bad = (): never => {
    throw new ChainError("PROOF_MALFORMED", "proof must be [[32-byte sibling...], null | [keyHash, valueHash]]");
  };
  if (!Array.isArray(v) || v.length !== 2 || !Array.isArray(v[0])) bad();
  const [siblings, terminal] = v as [CborValue[], CborValue];
  if (!siblings.every((s) => s instanceof Uint8Array && s.length === 32)) bad();
  if (terminal !== null) {
    if (!Array.isArray(terminal) || terminal.length !== 2 || !terminal.every((x) => x instanceof Uint8Array && x.length === 32)) bad();
  }
  const t = terminal as [Uint8Array, Uint8Array] | null;
  return { siblings: siblings as Uint8Array[], terminal: t ? { keyHash: t[0], valueHash: t[1] } : null };
}
