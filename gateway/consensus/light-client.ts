// A light verifier (BRIEF §7, clause 8.8): it trusts the genesis header and its validator set and
// nothing else, and checks any later header by its commit certificate. Each header names the set
// that certifies it (validatorSetHash) and the set after it (nextValidatorSetHash, different only at
// an epoch's last block), so the client walks epoch to epoch: within an epoch it may skip ahead to
// any header certified by the set it trusts; across a boundary it takes the new set from a header
// the old set certified, checked against that header's nextValidatorSetHash. Once a header is
// trusted, state proofs against its stateRoot (gateway/chain/proof.ts) need nothing more.
//
//   const lc = new LightClient(genesisHeader, genesisSet);
//   lc.verify(header, certificate);                 // same epoch, any height ahead
//   lc.verify(firstOfNextEpoch, cert, nextSet);     // the set announced by the previous epoch's last header
import { checkCertificate, type CertificateMembers, type CertificateProblem } from "../../shared/consensus-certificate.ts";
import type { Certificate } from "../../shared/consensus-messages.ts";
import { PublicKeyCache, toHex } from "../../shared/ed25519.ts";
import { MoteError } from "../../shared/errors.ts";
import { headerHash, type BlockHeader } from "../chain/block.ts";
import { validatorSetHash } from "../chain/execute.ts";
import type { ValidatorSet } from "../chain/records.ts";

export type LightClientErrorCode = "LIGHT_CHAIN" | "LIGHT_BEHIND" | "LIGHT_LINK" | "LIGHT_SET_UNKNOWN" | "LIGHT_SET_MISMATCH" | CertificateProblem;

export class LightClientError extends MoteError {
  declare readonly code: LightClientErrorCode;
  constructor(code: LightClientErrorCode, message: string) {
    super(code, message);
  }
}

const keys = new PublicKeyCache(4096);

function members(set: ValidatorSet): CertificateMembers {
  const byId = new Map(set.validators.map((v) => [toHex(v.id), keys.get(v.publicKey)]));
  return { n: set.validators.length, keyOf: (id) => byId.get(id) };
}

interface Trusted {
  header: BlockHeader;
  hash: Uint8Array;
  set: ValidatorSet;
  setHash: Uint8Array;
}

export class LightClient {
  private trusted: Trusted;

  constructor(genesis: BlockHeader, genesisSet: ValidatorSet) {
    const setHash = validatorSetHash(genesisSet);
    if (genesis.height !== 0 || Buffer.compare(setHash, genesis.validatorSetHash) !== 0) {
      throw new LightClientError("LIGHT_SET_MISMATCH", "the genesis set does not hash to the genesis header's validatorSetHash: use the network's genesis file");
    }
    this.trusted = { header: genesis, hash: headerHash(genesis), set: genesisSet, setHash };
  }

  get height(): number {
    return this.trusted.header.height;
  }
  get header(): BlockHeader {
    return this.trusted.header;
  }

  /**
   * Checks `header` with its commit certificate and, when it is certified by a set other than the
   * trusted one, the set announced by the trusted header (pass it as `set`). Throws
   * LightClientError; on success the header becomes the trusted one.
   */
  verify(header: BlockHeader, certificate: Certificate, set?: ValidatorSet): void {
    const t = this.trusted;
    const fail = (code: LightClientErrorCode, why: string): never => {
      throw new LightClientError(code, `header ${header.height}: ${why}`);
    };
    if (header.chainId !== t.header.chainId) fail("LIGHT_CHAIN", `chain "${header.chainId}" is not "${t.header.chainId}"`);
    if (header.height <= t.header.height) fail("LIGHT_BEHIND", `already trusting height ${t.header.height}`);
    const hash = headerHash(header);
    if (header.height === t.header.height + 1 && Buffer.compare(header.previousHash, t.hash) !== 0) fail("LIGHT_LINK", "does not link to the trusted header");
    // After an epoch's last header, the next set is in force: no skipping past its first header.
    if (Buffer.compare(t.header.nextValidatorSetHash, t.setHash) !== 0 && header.height !== t.header.height + 1) {
      fail("LIGHT_SET_UNKNOWN", `height ${t.header.height} ended an epoch: verify height ${t.header.height + 1} with the new set first`);
    }
    let signers = t.set;
    let signersHash = t.setHash;
    if (Buffer.compare(header.validatorSetHash, t.setHash) !== 0) {
      // A new set is only learnt from the header right before it, which the trusted set certified.
      if (header.height !== t.header.height + 1 || Buffer.compare(header.validatorSetHash, t.header.nextValidatorSetHash) !== 0) {
        fail("LIGHT_SET_UNKNOWN", `certified by a set the client was not told about; verify the last header of each epoch first (trusted: ${t.header.height})`);
      }
      if (!set) return fail("LIGHT_SET_UNKNOWN", "pass the validator set the previous header announced");
      signersHash = validatorSetHash(set);
      if (Buffer.compare(signersHash, header.validatorSetHash) !== 0) fail("LIGHT_SET_MISMATCH", "the set given does not hash to the header's validatorSetHash");
      signers = set;
    }
    const problem = checkCertificate(certificate, "commit", header.chainId, members(signers), { height: header.height, blockHash: hash });
    if (problem) fail(problem, "commit certificate does not hold a quorum of the set's signatures");
    this.trusted = { header, hash, set: signers, setHash: signersHash };
  }
}
