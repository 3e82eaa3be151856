// Commit certificates: signatures of validators over a block hash, the slot PBFT fills with 2f+1
// commit votes. The single-validator producer fills it with one signature (a quorum of one), so
// a chain made before PBFT already has a certificate per block in the same format.
//
//   certificate = cbor([height, round, blockHash, [[validatorId (16), signature (64)]...]])
//   signed      = cbor(["moteledger/commit", chainId, height, round, blockHash])
//
// Signatures are in ascending validator id order, one per validator: the certificate's bytes are
// a function of who signed, not of arrival order.
import type { KeyObject } from "node:crypto";
import { decode, encode, type CborValue } from "../../shared/cbor.ts";
import { sha256, signEd25519 } from "../../shared/ed25519.ts";
import { verifyRemembered } from "../../shared/verified-signatures.ts";
import type { KeyCache } from "./context.ts";
import { quorumOf } from "./dpos.ts";
import { BlockError } from "./errors.ts";
import type { ValidatorSet } from "./records.ts";

export const commitDomain = "moteledger/commit";

export interface CommitCertificate {
  height: number;
  round: number;
  blockHash: Uint8Array;
  signatures: { validatorId: Uint8Array; signature: Uint8Array }[];
}

export function commitMessage(chainId: string, height: number, round: number, blockHash: Uint8Array): Uint8Array {
  return encode([commitDomain, chainId, height, round, blockHash]);
}

export function encodeCertificate(c: CommitCertificate): Uint8Array {
  return encode([c.height, c.round, c.blockHash, c.signatures.map((s) => [s.validatorId, s.signature])]);
}

export function certificateHash(bytes: Uint8Array | null): Uint8Array {
  return bytes ? sha256(bytes) : new Uint8Array(32);
}

export function decodeCertificate(bytes: Uint8Array): CommitCertificate {
  const bad = (why: string): never => {
    throw new BlockError("CERTIFICATE_MALFORMED", `commit certificate: ${why}`);
  };
  let v: CborValue;
  try {
    v = decode(bytes, { depthMax: 3, itemsMax: 256, bytesMax: 64 });
  } catch (e) {
    return bad((e as Error).message);
  }
  if (!Array.isArray(v) || v.length !== 4) return bad("must be [height, round, blockHash, signatures]");
  const [height, round, blockHash, sigs] = v;
  if (typeof height !== "number" || typeof round !== "number" || !(blockHash instanceof Uint8Array) || blockHash.length !== 32 || !Array.isArray(sigs)) bad("bad field types");
  const signatures = (sigs as CborValue[]).map((s) => {
    if (!Array.isArray(s) || s.length !== 2 || !(s[0] instanceof Uint8Array) || s[0].length !== 16 || !(s[1] instanceof Uint8Array) || s[1].length !== 64) bad("each signature is [16-byte id, 64-byte signature]");
    return { validatorId: (s as Uint8Array[])[0], signature: (s as Uint8Array[])[1] };
  });
  for (let i = 1; i < signatures.length; i++) if (Buffer.compare(signatures[i - 1].validatorId, signatures[i].validatorId) >= 0) bad("signers must be distinct and ascending");
  return { height: height as number, round: round as number, blockHash: blockHash as Uint8Array, signatures };
}

/** A one-signature certificate (single-validator mode). */
export function signSoloCertificate(key: KeyObject, validatorId: Uint8Array, chainId: string, height: number, blockHash: Uint8Array): CommitCertificate {
  return { height, round: 0, blockHash, signatures: [{ validatorId, signature: signEd25519(key, commitMessage(chainId, height, 0, blockHash)) }] };
}

/** True when a quorum of `set` signed exactly this block. */
export function verifyCertificate(c: CommitCertificate, set: ValidatorSet, chainId: string, height: number, blockHash: Uint8Array, keys: KeyCache): boolean {
  if (c.height !== height || Buffer.compare(c.blockHash, blockHash) !== 0) return false;
  const message = commitMessage(chainId, c.height, c.round, c.blockHash);
  let valid = 0;
  for (const s of c.signatures) {
    const v = set.validators.find((x) => Buffer.compare(x.id, s.validatorId) === 0);
    // The commit votes this node verified as they arrived are look-ups (shared/verified-signatures.ts).
    if (v && verifyRemembered(keys.get(v.publicKey), message, s.signature)) valid++;
  }
  return valid >= quorumOf(set.validators.length);
}
