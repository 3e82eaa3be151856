// Blocks: a header that commits to everything (parent, time, proposer, validator sets,
// transactions, resulting state, previous block's commit certificate) and a body of transaction
// bytes. The header hash is the block's identity. The certificate that finalizes a block signs
// that hash, so it cannot be inside the block; it travels in the next block instead (as in
// Tendermint's LastCommit), whose header commits to it by hash. Validators may each hold a
// different valid certificate for a block (any 2f+1 of the votes); the one the next block carries
// is the chain's canonical one, so a light client checks the whole chain from certified headers.
//
//   header = cbor([version, chainId, height, previousHash, timeMs, proposer (16),
//                  validatorSetHash, nextValidatorSetHash, txRoot, stateRoot, lastCommitHash,
//                  resultsRoot])
//   block  = cbor([header, [bstr tx...], bstr lastCommit / null])
//
// validatorSetHash: SHA-256 of the set that must certify this block; nextValidatorSetHash: of the
// set after it (they differ only at an epoch's last block), so a light client that trusts one
// header's set learns the next one from a certified header. txRoot: RFC 6962 Merkle root
// (shared/merkle.ts) over the transaction bytes. stateRoot: the sparse Merkle root after the block.
// resultsRoot (version 2): RFC 6962 root over the transactions' results (reading-outcome.ts), so
// what became of each reading of a batch is provable against the header like the batch itself.
import { decode, encode, type CborValue } from "../../shared/cbor.ts";
import { sha256 } from "../../shared/ed25519.ts";
import { leafHash, merkleRoot } from "../../shared/merkle.ts";
import { txBytesMax } from "../../shared/tx.ts";
import { BlockError } from "./errors.ts";

export const blockVersion = 2;
/** Wire caps, above any parameter value (params.ts blockTxsMax, blockBytesMax). */
export const blockTxsWireMax = 100_000;
export const blockBytesWireMax = 64 << 20;

export interface BlockHeader {
  version: number;
  chainId: string;
  height: number;
  previousHash: Uint8Array;
  timeMs: number;
  proposer: Uint8Array;
  validatorSetHash: Uint8Array;
  nextValidatorSetHash: Uint8Array;
  txRoot: Uint8Array;
  stateRoot: Uint8Array;
  /** Hash of the certificate that finalized the previous block (zero when there is none). */
  lastCommitHash: Uint8Array;
  /** RFC 6962 root over the encoded results of the block's transactions (reading-outcome.ts). */
  resultsRoot: Uint8Array;
}

export interface Block {
  header: BlockHeader;
  txs: Uint8Array[];
  /** Certificate of the previous block (certificate.ts); null at height 1, whose parent is genesis. */
  lastCommit: Uint8Array | null;
}

export const zero32 = new Uint8Array(32);

function fail(message: string): never {
  throw new BlockError("BLOCK_MALFORMED", message);
}

export function headerToCbor(h: BlockHeader): CborValue {
  return [h.version, h.chainId, h.height, h.previousHash, h.timeMs, h.proposer, h.validatorSetHash, h.nextValidatorSetHash, h.txRoot, h.stateRoot, h.lastCommitHash, h.resultsRoot];
}

export function encodeHeader(h: BlockHeader): Uint8Array {
  return encode(headerToCbor(h));
}

export function headerHash(h: BlockHeader): Uint8Array {
  return sha256(encodeHeader(h));
}

export function txRootOf(txs: Uint8Array[]): Uint8Array {
  return merkleRoot(txs.map(leafHash));
}

const h32 = (v: CborValue, what: string): Uint8Array => {
  if (!(v instanceof Uint8Array) || v.length !== 32) fail(`${what} must be 32 bytes`);
  return v;
};
const uint = (v: CborValue, what: string): number => {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) fail(`${what} must be an unsigned integer below 2^53`);
  return v;
};

export function headerFromCbor(v: CborValue): BlockHeader {
  if (!Array.isArray(v) || v.length !== 12) fail("header must be an array of 12");
  const [version, chainId, height, previousHash, timeMs, proposer, vsh, nvsh, txRoot, stateRoot, lch, resultsRoot] = v;
  if (version !== blockVersion) fail(`block version ${String(version)} is not supported`);
  if (typeof chainId !== "string" || chainId.length > 64) fail("chain id must be text of at most 64 characters");
  if (!(proposer instanceof Uint8Array) || proposer.length !== 16) fail("proposer must be a 16-byte id");
  return {
    version,
    chainId,
    height: uint(height, "height"),
    previousHash: h32(previousHash, "previous hash"),
    timeMs: uint(timeMs, "time"),
    proposer,
    validatorSetHash: h32(vsh, "validator set hash"),
    nextValidatorSetHash: h32(nvsh, "next validator set hash"),
    txRoot: h32(txRoot, "transactions root"),
    stateRoot: h32(stateRoot, "state root"),
    lastCommitHash: h32(lch, "last commit hash"),
    resultsRoot: h32(resultsRoot, "results root"),
  };
}

export function decodeHeader(bytes: Uint8Array): BlockHeader {
  try {
    return headerFromCbor(decode(bytes, { depthMax: 2, itemsMax: 16, bytesMax: 64 }));
  } catch (e) {
    if (e instanceof BlockError) throw e;
    return fail(`header is not deterministic CBOR: ${(e as Error).message}`);
  }
}

export function encodeBlock(b: Block): Uint8Array {
  return encode([headerToCbor(b.header), b.txs, b.lastCommit]);
}

/** Decodes a block's structure; checks that its transactions match the header's root. */
export function decodeBlock(bytes: Uint8Array): Block {
  if (bytes.length > blockBytesWireMax) fail(`block is ${bytes.length} bytes, over ${blockBytesWireMax}`);
  let v: CborValue;
  try {
    v = decode(bytes, { depthMax: 3, itemsMax: blockTxsWireMax, bytesMax: txBytesMax });
  } catch (e) {
    return fail(`block is not deterministic CBOR: ${(e as Error).message}`);
  }
  if (!Array.isArray(v) || v.length !== 3 || !Array.isArray(v[1])) fail("block must be [header, [tx...], lastCommit]");
  const header = headerFromCbor(v[0]);
  const txs = v[1].map((t) => (t instanceof Uint8Array ? t : fail("each transaction must be a byte string")));
  const lastCommit = v[2];
  if (lastCommit !== null && !(lastCommit instanceof Uint8Array)) fail("lastCommit must be a byte string or null");
  if (Buffer.compare(txRootOf(txs), header.txRoot) !== 0) throw new BlockError("BLOCK_TX_ROOT", `block ${header.height}: transactions do not match the header's root`);
  return { header, txs, lastCommit };
}

/** The body as the store keeps it apart from the header: cbor([[bstr tx...], lastCommit]). */
export function encodeBody(b: Pick<Block, "txs" | "lastCommit">): Uint8Array {
  return encode([b.txs, b.lastCommit]);
}

export function decodeBody(bytes: Uint8Array): Pick<Block, "txs" | "lastCommit"> {
  const v = decode(bytes, { depthMax: 2, itemsMax: blockTxsWireMax, bytesMax: txBytesMax });
  if (!Array.isArray(v) || v.length !== 2 || !Array.isArray(v[0])) fail("block body must be [[tx...], lastCommit]");
  const lastCommit = v[1];
  if (lastCommit !== null && !(lastCommit instanceof Uint8Array)) fail("lastCommit must be a byte string or null");
  return { txs: v[0].map((t) => (t instanceof Uint8Array ? t : fail("each transaction must be a byte string"))), lastCommit };
}
