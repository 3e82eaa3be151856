// Evidence of a validator signing two different blocks for the same (height, round, message type):
// an equivocating proposer (two proposals) or a double vote (two prepares or two commits). An
// honest validator signs each at most once (its WAL remembers across restarts), so two valid
// signatures are proof by themselves; anyone holding the validator's public key can check them.
//
//   evidence = [height, round, type (1 proposal, 2 prepare, 3 commit), publicKey (32),
//               blockHashA, signatureA, blockHashB, signatureB]          blockHashA < blockHashB
//
// It goes on chain (chain-adapter.ts passes it to the proposer's block) and the DPoS layer jails the
// validator from the next epoch (gateway/chain/dpos.ts jailCandidate).
import { decode, encode } from "../../shared/cbor.ts";
import { pbftType, voteSigningBytes } from "../../shared/consensus-messages.ts";
import { deviceIdFromPublicKey, PublicKeyCache, toHex, verifyEd25519 } from "../../shared/ed25519.ts";
import { ConsensusError } from "./errors.ts";

export type SignedKind = "proposal" | "prepare" | "commit";

export interface ConsensusEvidence {
  height: number;
  round: number;
  kind: SignedKind;
  publicKey: Uint8Array;
  a: { blockHash: Uint8Array; signature: Uint8Array };
  b: { blockHash: Uint8Array; signature: Uint8Array };
}

const kindByType = new Map<number, SignedKind>([
  [pbftType.proposal, "proposal"],
  [pbftType.prepare, "prepare"],
  [pbftType.commit, "commit"],
]);

/** Orders the two halves so one double vote has exactly one encoding. */
export function makeEvidence(e: ConsensusEvidence): ConsensusEvidence {
  return Buffer.compare(e.a.blockHash, e.b.blockHash) <= 0 ? e : { ...e, a: e.b, b: e.a };
}

export function encodeEvidence(e: ConsensusEvidence): Uint8Array {
  return encode([e.height, e.round, pbftType[e.kind], e.publicKey, e.a.blockHash, e.a.signature, e.b.blockHash, e.b.signature]);
}

export function decodeEvidence(bytes: Uint8Array): ConsensusEvidence {
  const fail = (what: string): never => {
    throw new ConsensusError("PBFT_MALFORMED", `evidence: ${what}`);
  };
  let v;
  try {
    v = decode(bytes, { depthMax: 2, itemsMax: 8, bytesMax: 64 });
  } catch (e) {
    return fail(`not deterministic CBOR: ${(e as Error).message}`);
  }
  if (!Array.isArray(v) || v.length !== 8) return fail("must be an array of 8");
  const [h, r, t, pk, ha, sa, hb, sb] = v;
  const isBytes = (x: unknown, n: number): x is Uint8Array => x instanceof Uint8Array && x.length === n;
  if (typeof h !== "number" || typeof r !== "number" || h < 0 || r < 0) return fail("height and round must be unsigned integers");
  const kind = typeof t === "number" ? kindByType.get(t) : undefined;
  if (!kind) return fail(`unknown message type ${String(t)}`);
  if (!isBytes(pk, 32) || !isBytes(ha, 32) || !isBytes(hb, 32) || !isBytes(sa, 64) || !isBytes(sb, 64)) return fail("wrong key, hash or signature length");
  return { height: h, round: r, kind, publicKey: pk, a: { blockHash: ha, signature: sa }, b: { blockHash: hb, signature: sb } };
}

const keys = new PublicKeyCache(1024);

/**
 * True when the evidence proves a double signature under `chainId`. The chain also checks that
 * the key belonged to a validator of that height, which only it knows.
 */
export function verifyEvidence(e: ConsensusEvidence, chainId: string): boolean {
  if (Buffer.compare(e.a.blockHash, e.b.blockHash) >= 0) return false; // equal hashes prove nothing; order is canonical
  const key = keys.get(e.publicKey);
  return (
    verifyEd25519(key, voteSigningBytes(chainId, e.kind, e.height, e.round, e.a.blockHash), e.a.signature) &&
    verifyEd25519(key, voteSigningBytes(chainId, e.kind, e.height, e.round, e.b.blockHash), e.b.signature)
  );
}

/** The validator account the evidence accuses. */
export const accusedId = (e: ConsensusEvidence): Uint8Array => deviceIdFromPublicKey(e.publicKey);

/** Evidence waiting for a block, one entry per (validator, height, round, kind), bounded. */
export class EvidencePool {
  private readonly entries = new Map<string, ConsensusEvidence>();
  constructor(readonly entriesMax: number) {}

  add(e: ConsensusEvidence): boolean {
    const key = `${toHex(e.publicKey)}/${e.height}/${e.round}/${e.kind}`;
    if (this.entries.has(key) || this.entries.size >= this.entriesMax) return false;
    this.entries.set(key, makeEvidence(e));
    return true;
  }

  pending(): ConsensusEvidence[] {
    return [...this.entries.values()];
  }

  /** Drops evidence the chain has recorded (or that is too old to matter to it). */
  remove(predicate: (e: ConsensusEvidence) => boolean): void {
    for (const [k, e] of this.entries) if (predicate(e)) this.entries.delete(k);
  }

  get size(): number {
    return this.entries.size;
  }
}
