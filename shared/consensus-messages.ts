// PBFT consensus messages between validators (BRIEF §7, clause 7.1.1.3), as deterministic CBOR
// (RFC 8949 §4.2.1). One consensus instance decides one height; inside it, rounds (PBFT "views")
// follow each other on timeout. The shape is PBFT as QBFT adapts it to a chain (per-height
// instances, round changes that carry prepared certificates, justified re-proposals):
//
//   proposal     [1, height, round, blockHash, validator, signature, block, justification | null]
//   prepare      [2, height, round, blockHash, validator, signature]
//   commit       [3, height, round, blockHash, validator, signature]
//   roundChange  [4, height, round, validator, signature, preparedRound | null, preparedHash | null,
//                 preparedCertificate | null, preparedBlock | null]
//   justification  [[signedRoundChange...], preparedCertificate | null]
//   signedRoundChange [height, round, validator, signature, preparedRound | null, preparedHash | null]
//   certificate  [height, round, blockHash, [[validatorId (16), signature]...]]   (prepared or commit)
//
// `validator` in a message is the signer's index in the validator set deciding `height`; a
// certificate names signers by validator id, ascending, so it stays checkable by anyone who knows
// the set, in any order of members. What is signed never contains the block itself, only its
// 32-byte hash, and is bound to one chain and one message type:
//
//   signed = cbor(["moteledger/pbft", chainId, type, height, round, blockHash])           types 1-2
//   signed = cbor(["moteledger/commit", chainId, height, round, blockHash])               type 3
//   signed = cbor(["moteledger/pbft", chainId, 4, height, round, preparedRound, preparedHash])
//
// A commit certificate is what a block carries as proof of finality: a quorum of commit signatures.
// Its encoding and signed message are exactly the chain's (gateway/chain/certificate.ts): the
// certificate PBFT assembles is the one the chain stores and puts in the next block's lastCommit.
import { decode, encode, type CborValue } from "./cbor.ts";
import { MoteError } from "./errors.ts";

export const pbftDomain = "moteledger/pbft";
export const commitDomain = "moteledger/commit";
export const validatorIdBytes = 16;
export const pbftType = { proposal: 1, prepare: 2, commit: 3, roundChange: 4 } as const;

export const blockHashBytes = 32;
export const signatureBytes = 64;
/** Above any validator set the chain allows (validatorsMax ≤ 100), with room to grow. */
export const validatorsMax = 256;
/** Rounds beyond this are refused: with growing timeouts they would take centuries to reach. */
export const roundMax = 1 << 20;
/** Default limit on a block inside a message; callers pass the chain's blockBytesMax. */
export const blockBytesMaxDefault = 8 << 20;

/** A message that does not decode or breaks a limit. `code` is stable. */
export class ConsensusMessageError extends MoteError {}

export interface Certificate {
  height: number;
  round: number;
  blockHash: Uint8Array;
  /** (validator id, signature), ascending by id bytes, distinct. */
  votes: [Uint8Array, Uint8Array][];
}

export interface Vote {
  type: "prepare" | "commit";
  height: number;
  round: number;
  blockHash: Uint8Array;
  validator: number;
  signature: Uint8Array;
}

export interface SignedRoundChange {
  height: number;
  round: number;
  validator: number;
  signature: Uint8Array;
  preparedRound: number | null;
  preparedHash: Uint8Array | null;
}

export interface RoundChange extends SignedRoundChange {
  type: "roundChange";
  /** Quorum of prepares for (preparedRound, preparedHash); present iff preparedRound is. */
  preparedCertificate: Certificate | null;
  /** The prepared block, so the next proposer can re-propose it (checked against preparedHash). */
  preparedBlock: Uint8Array | null;
}

export interface Justification {
  roundChanges: SignedRoundChange[];
  prepared: Certificate | null;
}

export interface Proposal {
  type: "proposal";
  height: number;
  round: number;
  blockHash: Uint8Array;
  validator: number;
  signature: Uint8Array;
  block: Uint8Array;
  /** Required for round > 0: why this block may be proposed in this round. */
  justification: Justification | null;
}

export type ConsensusMessage = Proposal | Vote | RoundChange;

// ---- what is signed -------------------------------------------------------------------------

export function voteSigningBytes(chainId: string, type: "proposal" | "prepare" | "commit", height: number, round: number, blockHash: Uint8Array): Uint8Array {
  if (type === "commit") return encode([commitDomain, chainId, height, round, blockHash]);
  return encode([pbftDomain, chainId, pbftType[type], height, round, blockHash]);
}

export function roundChangeSigningBytes(chainId: string, rc: Omit<SignedRoundChange, "validator" | "signature">): Uint8Array {
  return encode([pbftDomain, chainId, pbftType.roundChange, rc.height, rc.round, rc.preparedRound, rc.preparedHash]);
}

// ---- encoding -------------------------------------------------------------------------------

export function certificateToCbor(c: Certificate): CborValue {
  return [c.height, c.round, c.blockHash, c.votes.map(([v, s]) => [v, s])];
}

function signedRoundChangeToCbor(rc: SignedRoundChange): CborValue {
  return [rc.height, rc.round, rc.validator, rc.signature, rc.preparedRound, rc.preparedHash];
}

export function encodeConsensusMessage(m: ConsensusMessage): Uint8Array {
  return encode(consensusMessageToCbor(m));
}

export function consensusMessageToCbor(m: ConsensusMessage): CborValue {
  switch (m.type) {
    case "proposal": {
      const j = m.justification ? [m.justification.roundChanges.map(signedRoundChangeToCbor), m.justification.prepared ? certificateToCbor(m.justification.prepared) : null] : null;
      return [pbftType.proposal, m.height, m.round, m.blockHash, m.validator, m.signature, m.block, j];
    }
    case "prepare":
    case "commit":
      return [pbftType[m.type], m.height, m.round, m.blockHash, m.validator, m.signature];
    case "roundChange":
      return [
        pbftType.roundChange,
        m.height,
        m.round,
        m.validator,
        m.signature,
        m.preparedRound,
        m.preparedHash,
        m.preparedCertificate ? certificateToCbor(m.preparedCertificate) : null,
        m.preparedBlock,
      ];
  }
}

export function encodeCertificate(c: Certificate): Uint8Array {
  return encode(certificateToCbor(c));
}

// ---- strict decoding ------------------------------------------------------------------------

function fail(message: string): never {
  throw new ConsensusMessageError("PBFT_MALFORMED", message);
}

function uint(v: CborValue, what: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) fail(`${what} must be an integer from 0 to ${max}`);
  return v;
}

function bytes(v: CborValue, what: string, length: number): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== length) fail(`${what} must be ${length} bytes`);
  return v;
}

function array(v: CborValue, what: string, length?: number): CborValue[] {
  if (!Array.isArray(v) || (length !== undefined && v.length !== length)) fail(`${what} must be an array${length === undefined ? "" : ` of ${length}`}`);
  return v;
}

const height = (v: CborValue) => uint(v, "height");
const round = (v: CborValue) => uint(v, "round", roundMax);
const validator = (v: CborValue) => uint(v, "validator", validatorsMax - 1);
const hash = (v: CborValue, what = "blockHash") => bytes(v, what, blockHashBytes);
const signature = (v: CborValue) => bytes(v, "signature", signatureBytes);

export function certificateFromCbor(v: CborValue): Certificate {
  const [h, r, bh, list] = array(v, "certificate", 4);
  const votes = array(list, "certificate votes").map((e): [Uint8Array, Uint8Array] => {
    const [id, s] = array(e, "certificate vote", 2);
    return [bytes(id, "validator id", validatorIdBytes), signature(s)];
  });
  if (votes.length > validatorsMax) fail(`certificate has more than ${validatorsMax} votes`);
  for (let i = 1; i < votes.length; i++) if (Buffer.compare(votes[i][0], votes[i - 1][0]) <= 0) fail("certificate votes must be ascending by validator id and distinct");
  return { height: height(h), round: round(r), blockHash: hash(bh), votes };
}

function preparedPair(pr: CborValue, ph: CborValue): [number | null, Uint8Array | null] {
  if (pr === null && ph === null) return [null, null];
  if (pr === null || ph === null) fail("preparedRound and preparedHash are both present or both null");
  return [round(pr), hash(ph, "preparedHash")];
}

function signedRoundChangeFromCbor(v: CborValue): SignedRoundChange {
  const [h, r, i, s, pr, ph] = array(v, "signed round change", 6);
  const [preparedRound, preparedHash] = preparedPair(pr, ph);
  return { height: height(h), round: round(r), validator: validator(i), signature: signature(s), preparedRound, preparedHash };
}

function blockBytes(v: CborValue, blockBytesMax: number): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length === 0 || v.length > blockBytesMax) fail(`block must be 1 to ${blockBytesMax} bytes`);
  return v;
}

export function consensusMessageFromCbor(v: CborValue, blockBytesMax = blockBytesMaxDefault): ConsensusMessage {
  const a = array(v, "consensus message");
  switch (a[0]) {
    case pbftType.proposal: {
      if (a.length !== 8) fail("proposal must have 8 fields");
      let justification: Justification | null = null;
      if (a[7] !== null) {
        const [rcs, prepared] = array(a[7], "justification", 2);
        const list = array(rcs, "justification round changes");
        if (list.length > validatorsMax) fail(`justification has more than ${validatorsMax} round changes`);
        justification = { roundChanges: list.map(signedRoundChangeFromCbor), prepared: prepared === null ? null : certificateFromCbor(prepared) };
      }
      return { type: "proposal", height: height(a[1]), round: round(a[2]), blockHash: hash(a[3]), validator: validator(a[4]), signature: signature(a[5]), block: blockBytes(a[6], blockBytesMax), justification };
    }
    case pbftType.prepare:
    case pbftType.commit:
      if (a.length !== 6) fail("vote must have 6 fields");
      return { type: a[0] === pbftType.prepare ? "prepare" : "commit", height: height(a[1]), round: round(a[2]), blockHash: hash(a[3]), validator: validator(a[4]), signature: signature(a[5]) };
    case pbftType.roundChange: {
      if (a.length !== 9) fail("round change must have 9 fields");
      const [preparedRound, preparedHash] = preparedPair(a[5], a[6]);
      const preparedCertificate = a[7] === null ? null : certificateFromCbor(a[7]);
      const preparedBlock = a[8] === null ? null : blockBytes(a[8], blockBytesMax);
      if ((preparedRound === null) !== (preparedCertificate === null) || (preparedRound === null) !== (preparedBlock === null)) {
        fail("a round change carries a prepared certificate and block exactly when it names a prepared round");
      }
      return { type: "roundChange", height: height(a[1]), round: round(a[2]), validator: validator(a[3]), signature: signature(a[4]), preparedRound, preparedHash, preparedCertificate, preparedBlock };
    }
    default:
      return fail(`unknown consensus message type ${String(a[0])}`);
  }
}

/** Decodes one message; `blockBytesMax` is the chain's block size limit. Throws ConsensusMessageError. */
export function decodeConsensusMessage(b: Uint8Array, blockBytesMax = blockBytesMaxDefault): ConsensusMessage {
  let v: CborValue;
  try {
    v = decode(b, { depthMax: 6, itemsMax: validatorsMax, bytesMax: Math.max(blockBytesMax, 1024) });
  } catch (e) {
    return fail(`not deterministic CBOR within limits: ${(e as Error).message}`);
  }
  return consensusMessageFromCbor(v, blockBytesMax);
}

export function decodeCertificate(b: Uint8Array): Certificate {
  let v: CborValue;
  try {
    v = decode(b, { depthMax: 4, itemsMax: validatorsMax, bytesMax: 64 });
  } catch (e) {
    return fail(`certificate is not deterministic CBOR within limits: ${(e as Error).message}`);
  }
  return certificateFromCbor(v);
}
