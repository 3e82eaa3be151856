// The validator set as consensus uses it: keys parsed once, quorum sizes computed once, and the
// proposer rotation (BRIEF §7, clause 7.1.1.5: round robin among trusted participants).
//
// The set deciding height h is the one in the chain's state after block h−1 (the chain changes it
// only at the end of an epoch's last block), so every honest node agrees on it before h starts.
import type { KeyObject } from "node:crypto";
import { faultsTolerated, quorumSize, weakQuorumSize, type CertificateMembers } from "../../shared/consensus-certificate.ts";
import { deviceIdFromPublicKey, PublicKeyCache, toHex } from "../../shared/ed25519.ts";
import { validatorsMax } from "../../shared/consensus-messages.ts";
import { assert, assertFailed } from "./errors.ts";

/** What the chain says about one validator (gateway/chain/records.ts Validator has this shape). */
export interface ValidatorInfo {
  id: Uint8Array;
  publicKey: Uint8Array;
}

export interface ValidatorSetInfo {
  epoch: number;
  validators: readonly ValidatorInfo[];
}

const keyCache = new PublicKeyCache(4096);

export class ConsensusValidators implements CertificateMembers {
  readonly n: number;
  readonly quorum: number;
  /** f+1 when n = 3f+1: that many validators include an honest one. */
  readonly weakQuorum: number;
  readonly f: number;
  readonly keys: KeyObject[];
  readonly ids: Uint8Array[];
  readonly idHex: string[];
  private readonly indexById = new Map<string, number>();

  constructor(readonly set: ValidatorSetInfo) {
    this.n = set.validators.length;
    if (!(this.n >= 1 && this.n <= validatorsMax)) assertFailed(`a validator set holds 1 to ${validatorsMax} validators, got ${this.n}`);
    this.quorum = quorumSize(this.n);
    this.weakQuorum = weakQuorumSize(this.n);
    this.f = faultsTolerated(this.n);
    // Paired with the certificate check: 2·quorum − n > f, so two quorums share an honest member.
    assert(2 * this.quorum - this.n > this.f, "quorum does not intersect in an honest validator");
    this.keys = set.validators.map((v) => keyCache.get(v.publicKey));
    this.ids = set.validators.map((v) => v.id);
    this.idHex = this.ids.map(toHex);
    set.validators.forEach((v, i) => {
      if (toHex(deviceIdFromPublicKey(v.publicKey)) !== this.idHex[i]) assertFailed(`validator ${this.idHex[i]}: id is not the hash of its public key`);
      if (this.indexById.has(this.idHex[i])) assertFailed(`validator ${this.idHex[i]} appears twice in the set`);
      this.indexById.set(this.idHex[i], i);
    });
  }

  keyOf(idHex: string): KeyObject | undefined {
    const i = this.indexById.get(idHex);
    return i === undefined ? undefined : this.keys[i];
  }

  /** Index of a validator id (hex), or -1 when it is not in this set. */
  indexOf(idHex: string): number {
    return this.indexById.get(idHex) ?? -1;
  }

  /** Round robin over height and round, so a faulty proposer loses one round, not a height. */
  proposer(height: number, round: number): number {
    return (height + round) % this.n;
  }
}
