// The chain's transaction envelope. Every transaction, whatever its kind, is signed by its author
// with Ed25519 (RFC 8032) over a digest of its unsigned part, bound to one chain id:
//
//   tx        = cbor([ bstr(unsigned), bstr(signature, 64 bytes) ])
//   unsigned  = cbor([ version = 1, type, author (Ed25519 public key, 32), nonce, fee, body ])
//   message   = cbor([ "moteledger/tx", chainId, SHA-256(unsigned) ])     what the author signs
//   txId      = SHA-256(unsigned)                                          mempool and index key
//
// Why this shape: the unsigned part is carried as bytes so verification never re-encodes a body
// (a reading batch can be ~1 MiB); Ed25519 signs a 32-byte digest, so its cost does not grow with
// the body; the chain id in the message keeps a transaction from replaying on another network;
// the nonce (the author's count of applied transactions) keeps it from replaying on this one.
// All CBOR is RFC 8949 §4.2.1 deterministic and decoded strictly (shared/cbor.ts), so a
// transaction has exactly one encoding. New kinds take new type numbers; `version` lets the
// envelope itself change later without ambiguity.
import type { KeyObject } from "node:crypto";
import { decodeViews, encode, type CborValue } from "./cbor.ts";
import { deviceIdFromPublicKey, sha256, signEd25519, verifyEd25519 } from "./ed25519.ts";
import { bodyFromCbor, bodyToCbor, contractCodeBytesMax, rolloutTargetsMax, txTypeOfKind, txKindOfType, uint64, TxError, type TxBody } from "./tx-body.ts";

export * from "./tx-body.ts";

export const txVersion = 1;
export const txDomain = "moteledger/tx";
/** Whole encoded transaction; only reading batches come near it (4,096 readings of ~250 bytes). */
export const txBytesMax = 1 << 20;
/** Every kind but a reading batch and a contract deployment is small; a tighter limit keeps junk out of the mempool. */
export const txSmallBytesMax = 4096;
/** A contract deployment: its code (at most contractCodeBytesMax) and a little more. */
export const txDeployBytesMax = contractCodeBytesMax + 4096;
/** A rollout: up to rolloutTargetsMax 16-byte device ids (17 bytes each in CBOR) and a little more. */
export const txRolloutBytesMax = rolloutTargetsMax * 17 + 4096;

export interface Tx {
  version: number;
  author: Uint8Array; // Ed25519 public key, 32 bytes
  nonce: number;
  fee: bigint;
  body: TxBody;
}

export interface DecodedTx extends Tx {
  /** SHA-256 of the unsigned part. */
  id: Uint8Array;
  /** The author's account id: first 16 bytes of SHA-256 of its public key (as device ids). */
  authorId: Uint8Array;
  unsigned: Uint8Array;
  signature: Uint8Array;
  /** The exact transaction bytes, as received. */
  bytes: Uint8Array;
}

function fail(code: string, message: string): never {
  throw new TxError(code, message);
}

/** What the author signs (see the header comment). */
export function txSigningMessage(chainId: string, unsigned: Uint8Array): Uint8Array {
  return encode([txDomain, chainId, sha256(unsigned)]);
}

export function encodeUnsigned(tx: Tx): Uint8Array {
  return encode([tx.version, txTypeOfKind(tx.body.kind), tx.author, tx.nonce, tx.fee, bodyToCbor(tx.body)]);
}

/** Encodes and signs a transaction. `key` must be the private key of `tx.author`. */
export function signTx(key: KeyObject, chainId: string, tx: Tx): Uint8Array {
  const unsigned = encodeUnsigned(tx);
  const signature = signEd25519(key, txSigningMessage(chainId, unsigned));
  return encode([unsigned, signature]);
}

/** Checks the author's signature. Callers pass a cached KeyObject (shared/ed25519.ts PublicKeyCache). */
export function verifyTxSignature(tx: DecodedTx, authorKey: KeyObject, chainId: string): boolean {
  return verifyEd25519(authorKey, txSigningMessage(chainId, tx.unsigned), tx.signature);
}

const envelopeLimits = { depthMax: 2, itemsMax: 2, bytesMax: txBytesMax };
// Depth: unsigned → body → reading list → reading pair. Items: a batch holds up to 4,096 readings.
// Strings up to a contract's code: every other byte or text field has its own, smaller limit in
// the body decoder (tx-body.ts), and small kinds are held to txSmallBytesMax as a whole.
const unsignedLimits = { depthMax: 6, itemsMax: 4096, bytesMax: contractCodeBytesMax };

function safeUint(v: CborValue, what: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) fail("TX_MALFORMED", `${what} must be an unsigned integer below 2^53`);
  return v;
}

/**
 * Decodes a transaction without checking its signature. Throws TxError with code TX_TOO_LARGE,
 * TX_MALFORMED, TX_VERSION or TX_UNKNOWN_TYPE; a TxError from the body decoder keeps its code.
 * Its byte fields (unsigned, signature, author, each reading's bytes, ...) are views of `bytes`,
 * which must not be written after (cbor.ts decodeViews).
 */
export function decodeTx(bytes: Uint8Array): DecodedTx {
  if (bytes.length > txBytesMax) fail("TX_TOO_LARGE", `transaction is ${bytes.length} bytes, the limit is ${txBytesMax}`);
  let top: CborValue;
  try {
    top = decodeViews(bytes, envelopeLimits);
  } catch (e) {
    return fail("TX_MALFORMED", `transaction is not deterministic CBOR: ${(e as Error).message}`);
  }
  if (!Array.isArray(top) || top.length !== 2) fail("TX_MALFORMED", "transaction must be [unsigned bytes, signature]");
  const [unsigned, signature] = top;
  if (!(unsigned instanceof Uint8Array) || !(signature instanceof Uint8Array) || signature.length !== 64) {
    fail("TX_MALFORMED", "transaction must be [bstr unsigned, bstr signature of 64 bytes]");
  }
  let inner: CborValue;
  try {
    inner = decodeViews(unsigned, unsignedLimits);
  } catch (e) {
    return fail("TX_MALFORMED", `unsigned part is not deterministic CBOR within limits: ${(e as Error).message}`);
  }
  if (!Array.isArray(inner) || inner.length !== 6) fail("TX_MALFORMED", "unsigned part must be [version, type, author, nonce, fee, body]");
  const [version, type, author, nonce, fee, body] = inner;
  if (version !== txVersion) fail("TX_VERSION", `transaction version ${String(version)} is not supported; this node speaks version ${txVersion}`);
  if (typeof type !== "number") fail("TX_MALFORMED", "type must be an integer");
  const kind = txKindOfType(type);
  if (kind === undefined) fail("TX_UNKNOWN_TYPE", `transaction type ${type} is unknown to this node; upgrade it or fix the sender`);
  const kindBytesMax = kind === "readingBatch" ? txBytesMax : kind === "deployContract" ? txDeployBytesMax : kind === "startRollout" ? txRolloutBytesMax : txSmallBytesMax;
  if (bytes.length > kindBytesMax) fail("TX_TOO_LARGE", `a ${kind} transaction is limited to ${kindBytesMax} bytes, got ${bytes.length}`);
  if (!(author instanceof Uint8Array) || author.length !== 32) fail("TX_MALFORMED", "author must be a 32-byte Ed25519 public key");
  return {
    version,
    author,
    nonce: safeUint(nonce, "nonce"),
    fee: uint64(fee, "fee"),
    body: bodyFromCbor(kind, body),
    id: sha256(unsigned),
    authorId: deviceIdFromPublicKey(author),
    unsigned,
    signature,
    bytes,
  };
}
