// The quorum rule and certificate check, in one place for validators, block sync and light clients.
//
// PBFT over n validators tolerates f = ⌊(n−1)/3⌋ Byzantine ones. A quorum is more than two thirds,
// ⌊2n/3⌋+1, which is 2f+1 when n = 3f+1 and in general is the least q with 2q − n > f: any two
// quorums share an honest validator, which is what makes two conflicting certificates impossible.
// Votes count one per validator (stake elects the set; it does not weigh votes inside it).
import type { KeyObject } from "node:crypto";
import { toHex, verifyEd25519 } from "./ed25519.ts";
import { voteSigningBytes, type Certificate } from "./consensus-messages.ts";

export function quorumSize(n: number): number {
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`a validator set has at least one member, got ${n}`);
  return Math.floor((2 * n) / 3) + 1;
}

export function faultsTolerated(n: number): number {
  return Math.floor((n - 1) / 3);
}

/** Least count that surely includes an honest validator: n − quorum + 1 (f+1 when n = 3f+1). */
export function weakQuorumSize(n: number): number {
  return n - quorumSize(n) + 1;
}

/** A signature check; the default is the one rule, verifyEd25519. Simulators may memoize it. */
export type SignatureCheck = (key: KeyObject, message: Uint8Array, signature: Uint8Array) => boolean;

/** The validator set a certificate is checked against. */
export interface CertificateMembers {
  readonly n: number;
  /** The key of a member by hex id, or undefined for a non-member. */
  keyOf(idHex: string): KeyObject | undefined;
}

export type CertificateProblem =
  | "CERT_HEIGHT"
  | "CERT_HASH"
  | "CERT_VALIDATOR"
  | "CERT_DUPLICATE"
  | "CERT_SIGNATURE"
  | "CERT_QUORUM";

/**
 * Checks that `cert` holds a quorum of valid `kind` signatures from `members` (the validator set
 * deciding cert.height) over (height, round, blockHash). Returns undefined when it does, else what
 * is wrong. `expect` pins the height and block the caller is checking.
 */
export function checkCertificate(
  cert: Certificate,
  kind: "prepare" | "commit",
  chainId: string,
  members: CertificateMembers,
  expect: { height?: number; blockHash?: Uint8Array },
  check: SignatureCheck = verifyEd25519,
): CertificateProblem | undefined {
  if (expect.height !== undefined && cert.height !== expect.height) return "CERT_HEIGHT";
  if (expect.blockHash !== undefined && Buffer.compare(cert.blockHash, expect.blockHash) !== 0) return "CERT_HASH";
  if (cert.votes.length < quorumSize(members.n)) return "CERT_QUORUM";
  const message = voteSigningBytes(chainId, kind, cert.height, cert.round, cert.blockHash);
  let previous: Uint8Array | undefined;
  for (const [id, signature] of cert.votes) {
    if (previous && Buffer.compare(previous, id) >= 0) return "CERT_DUPLICATE";
    previous = id;
    const key = members.keyOf(toHex(id));
    if (!key) return "CERT_VALIDATOR";
    if (!check(key, message, signature)) return "CERT_SIGNATURE";
  }
  return undefined;
}
