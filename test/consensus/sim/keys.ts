// Deterministic validator identities for simulations and tests: key i is the same in every run,
// so KeyObjects are parsed once per process and failures reproduce from the seed alone.
import type { KeyObject } from "node:crypto";
import { createHash } from "node:crypto";
import { deviceIdFromPublicKey, privateKeyObject, publicKeyFromSeed, signEd25519, verifyEd25519 } from "../../../shared/ed25519.ts";
import type { SignatureCheck } from "../../../shared/consensus-certificate.ts";
import type { Signer } from "../../../gateway/consensus/core.ts";

export interface SimIdentity extends Signer {
  seed: Uint8Array;
  privateKey: KeyObject;
}

const identities: SimIdentity[] = [];

export function simIdentity(i: number): SimIdentity {
  while (identities.length <= i) {
    const seed = new Uint8Array(createHash("sha256").update(`moteledger-sim-validator-${identities.length}`).digest());
    const privateKey = privateKeyObject(seed);
    const publicKey = publicKeyFromSeed(seed);
    identities.push({ seed, privateKey, publicKey, id: deviceIdFromPublicKey(publicKey), sign: (m) => signEd25519(privateKey, m) });
  }
  return identities[i];
}

/**
 * verifyEd25519 with a memo shared by all simulated nodes. A signature check is a pure function of
 * (key, message, signature), so sharing the answer changes no outcome; it saves each of n nodes
 * re-verifying the same vote, which is what makes 1,000 schedules fit in the test budget.
 */
export class MemoCheck {
  private readonly memo = new Map<string, boolean>();
  private readonly keyIds = new WeakMap<KeyObject, number>();
  private nextKeyId = 0;
  verifications = 0;
  lookups = 0;

  constructor(readonly entriesMax = 200_000) {}

  readonly check: SignatureCheck = (key, message, signature) => {
    this.lookups++;
    let id = this.keyIds.get(key);
    if (id === undefined) this.keyIds.set(key, (id = this.nextKeyId++));
    const k = `${id}:${Buffer.from(signature).toString("latin1")}${Buffer.from(message).toString("latin1")}`;
    let ok = this.memo.get(k);
    if (ok === undefined) {
      this.verifications++;
      ok = verifyEd25519(key, message, signature);
      if (this.memo.size >= this.entriesMax) this.memo.clear();
      this.memo.set(k, ok);
    }
    return ok;
  };
}
