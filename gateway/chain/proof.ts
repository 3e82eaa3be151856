// Light verification of state: a client holding only a block header (trusted through its commit
// certificate) checks that a state key holds a value, or is absent, at that height.
//
//   const { value, proof } = chain.prove(stateKey.device(id));
//   verifyStateProof(header, stateKey.device(id), value, proof) === true
import type { BlockHeader } from "./block.ts";
import { keyHash, valueHash } from "./keys.ts";
import { smtVerify, type SmtProof } from "./smt-proof.ts";

/** `value` undefined proves absence. Never throws; a malformed proof is false. */
export function verifyStateProof(header: Pick<BlockHeader, "stateRoot">, key: string, value: Uint8Array | undefined, proof: SmtProof): boolean {
  try {
    return smtVerify(header.stateRoot, keyHash(key), value === undefined ? null : valueHash(value), proof);
  } catch {
    return false;
  }
}
