// Typed access to the contracts' part of the chain state, over the same overlays as every other
// record (gateway/chain/state.ts), so a contract's writes fork, merge and drop with its run.
import { decode, encode } from "../../shared/cbor.ts";
import { invariantFailed } from "../chain/errors.ts";
import { stateKey } from "../chain/keys.ts";
import type { State } from "../chain/state.ts";
import { contractCodec, subscriptionsCodec, type ContractRecord, type Criterion } from "./records.ts";

const limits = { depthMax: 8, itemsMax: 100_000, bytesMax: 1 << 20 };

function bstr(v: Uint8Array | undefined, what: string): Uint8Array | undefined {
  if (v === undefined) return undefined;
  const d = decode(v, limits);
  if (!(d instanceof Uint8Array)) invariantFailed(`${what} is not a byte string`);
  return d;
}

export interface Subscription {
  contractId: Uint8Array;
  criteria: Criterion[];
}

export class ContractState {
  constructor(readonly state: State) {}

  contract(id: Uint8Array): ContractRecord | undefined {
    const v = this.state.overlay.get(stateKey.contract(id));
    return v === undefined ? undefined : contractCodec.from(decode(v, limits));
  }
  setContract(id: Uint8Array, c: ContractRecord): void {
    this.state.overlay.set(stateKey.contract(id), encode(contractCodec.to(c)));
  }

  code(hash: Uint8Array): Uint8Array | undefined {
    return bstr(this.state.overlay.get(stateKey.code(hash)), "contract code");
  }
  setCode(hash: Uint8Array, code: Uint8Array): void {
    this.state.overlay.set(stateKey.code(hash), encode(code));
  }

  storageGet(id: Uint8Array, key: Uint8Array): Uint8Array | undefined {
    return bstr(this.state.overlay.get(stateKey.contractStorage(id, key)), "contract storage value");
  }
  /** null removes the entry; removing an absent entry writes nothing. */
  storageSet(id: Uint8Array, key: Uint8Array, value: Uint8Array | null): void {
    const k = stateKey.contractStorage(id, key);
    if (value === null && this.state.overlay.get(k) === undefined) return;
    this.state.overlay.set(k, value === null ? null : encode(value));
  }

  subscriptions(): Subscription[] {
    const v = this.state.overlay.get(stateKey.subscriptions());
    return v === undefined ? [] : subscriptionsCodec.from(decode(v, limits));
  }
  setSubscriptions(s: Subscription[]): void {
    this.state.overlay.set(stateKey.subscriptions(), encode(subscriptionsCodec.to(s)));
  }
}
