// The contracts' state records and their part of a transaction's result, as deterministic CBOR.
// Keys are in gateway/chain/keys.ts (contract/<id>, contract/<id>/s/<key>, code/<hash>,
// contract-subscriptions). Field order is the encoding; extend by appending.
import { encode, type CborValue } from "../../shared/cbor.ts";
import { sha256 } from "../../shared/ed25519.ts";
import { invariant } from "../chain/errors.ts";
import type { ContractEvent } from "./runner.ts";

/** What a contract subscribes to: a reading matches when any one criterion does. */
export type Criterion = { kind: "device"; deviceId: Uint8Array } | { kind: "owner"; ownerId: Uint8Array } | { kind: "metadata"; key: string; value: string };

export interface ContractRecord {
  codeHash: Uint8Array;
  /** The deploying account: `owner()` to the contract, and who may configure it by convention. */
  owner: Uint8Array;
  criteria: Criterion[];
  /** Gas each reading-triggered run is given (paid from the contract's balance). */
  readingGasLimit: number;
  deployedHeight: number;
}

/** One run of a contract in a transaction: a call, or a reading's trigger. */
export interface ContractRun {
  contractId: Uint8Array;
  /** Position of the triggering reading in its batch; null for a call transaction. */
  position: number | null;
  gasUsed: number;
  /** null when the run completed; else why it stopped (its state changes were dropped). */
  failure: string | null;
  events: ContractEvent[];
}

const criterionTags = { device: 1, owner: 2, metadata: 3 } as const;

export function criterionToCbor(c: Criterion): CborValue {
  switch (c.kind) {
    case "device":
      return [criterionTags.device, c.deviceId];
    case "owner":
      return [criterionTags.owner, c.ownerId];
    case "metadata":
      return [criterionTags.metadata, c.key, c.value];
  }
}

/** Decodes a criterion; returns undefined for a shape that is not one (the caller decides how to fail). */
export function criterionFromCbor(v: CborValue): Criterion | undefined {
  if (!Array.isArray(v)) return undefined;
  const [tag, a, b] = v;
  if (tag === criterionTags.device && v.length === 2 && a instanceof Uint8Array && a.length === 16) return { kind: "device", deviceId: a };
  if (tag === criterionTags.owner && v.length === 2 && a instanceof Uint8Array && a.length === 16) return { kind: "owner", ownerId: a };
  if (tag === criterionTags.metadata && v.length === 3 && typeof a === "string" && typeof b === "string") return { kind: "metadata", key: a, value: b };
  return undefined;
}

const int = (v: CborValue): number => {
  invariant(typeof v === "number" && Number.isSafeInteger(v), "contract record: expected a safe integer");
  return v;
};
const bytes = (v: CborValue): Uint8Array => {
  invariant(v instanceof Uint8Array, "contract record: expected bytes");
  return v;
};
const criteria = (v: CborValue): Criterion[] => {
  invariant(Array.isArray(v), "contract record: criteria must be an array");
  return v.map((c) => {
    const x = criterionFromCbor(c);
    invariant(x !== undefined, "contract record: bad criterion");
    return x;
  });
};

export const contractCodec = {
  to: (c: ContractRecord): CborValue => [c.codeHash, c.owner, c.criteria.map(criterionToCbor), c.readingGasLimit, c.deployedHeight],
  from: (v: CborValue): ContractRecord => {
    invariant(Array.isArray(v) && v.length === 5, "contract record has the wrong shape");
    const [codeHash, owner, crit, gas, height] = v;
    return { codeHash: bytes(codeHash), owner: bytes(owner), criteria: criteria(crit), readingGasLimit: int(gas), deployedHeight: int(height) };
  },
};

/** The subscriptions index: [[contract id, [criterion...]]...], ascending by id. */
export const subscriptionsCodec = {
  to: (s: { contractId: Uint8Array; criteria: Criterion[] }[]): CborValue => s.map((e) => [e.contractId, e.criteria.map(criterionToCbor)]),
  from: (v: CborValue): { contractId: Uint8Array; criteria: Criterion[] }[] => {
    invariant(Array.isArray(v), "subscriptions record must be an array");
    return v.map((e) => {
      invariant(Array.isArray(e) && e.length === 2, "subscription entry has the wrong shape");
      return { contractId: bytes(e[0]), criteria: criteria(e[1]) };
    });
  },
};

/** A run inside a transaction's result: [contract id, position | null, gas used, failure | null, [[topic, data]...]]. */
export function runToCbor(r: ContractRun): CborValue {
  return [r.contractId, r.position, r.gasUsed, r.failure, r.events.map((e) => [e.topic, e.data])];
}

export function runFromCbor(v: CborValue): ContractRun {
  if (!Array.isArray(v) || v.length !== 5) throw new TypeError("a contract run must be an array of 5");
  const [id, position, gasUsed, failure, events] = v;
  if (!(id instanceof Uint8Array) || !(position === null || typeof position === "number") || typeof gasUsed !== "number" || !(failure === null || typeof failure === "string") || !Array.isArray(events)) {
    throw new TypeError("a contract run has the wrong field types");
  }
  return {
    contractId: id,
    position,
    gasUsed,
    failure,
    events: events.map((e) => {
      if (!Array.isArray(e) || e.length !== 2 || !(e[0] instanceof Uint8Array) || !(e[1] instanceof Uint8Array)) throw new TypeError("an event must be [topic, data]");
      return { topic: e[0], data: e[1] };
    }),
  };
}

/** A contract's id: the first 16 bytes of SHA-256(cbor(["moteledger/contract", deployer id, deploy nonce])). */
export function contractIdOf(deployerId: Uint8Array, nonce: number): Uint8Array {
  return sha256(encode(["moteledger/contract", deployerId, nonce])).subarray(0, 16);
}
