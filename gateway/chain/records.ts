// State records: what lives under each typed key (keys.ts), as deterministic CBOR arrays. Field
// order is the encoding; append fields at the end to extend a record. Records come from our own
// store, so a shape error is corruption (an invariant), not bad input.
import type { CborValue } from "../../shared/cbor.ts";
import { invariant, invariantFailed } from "./errors.ts";

export interface Account {
  balance: bigint;
  /** Transactions applied from this account: the next valid nonce. */
  nonce: number;
  /** Bonded stake: the voting weight, and a candidate's self-stake. */
  staked: bigint;
  /** Unstaked but still locked (released at the heights recorded under unbonding/<height>). */
  unbonding: bigint;
  /** Candidates this account backs with its whole stake, ascending. */
  votes: Uint8Array[];
}

export interface Candidate {
  publicKey: Uint8Array;
  endpoint: string;
  /** Sum of the stakes of the accounts voting for it. */
  votes: bigint;
  /** Not electable before this epoch (the consensus layer's jailing hook). */
  jailedUntilEpoch: number;
  blocksProduced: number;
  registeredHeight: number;
}

export const deviceStatus = { active: 1, revoked: 2, quarantined: 3 } as const;
export type DeviceStatus = (typeof deviceStatus)[keyof typeof deviceStatus];

export interface Device {
  owner: Uint8Array;
  publicKey: Uint8Array;
  status: DeviceStatus;
  /** Highest sequence number on chain; -1 before the first reading. */
  lastSequence: number;
  metadata: Map<string, string>;
  /** Data policy: days a reading's payload is kept before it may be pruned (0 = forever). */
  ttlDays: number;
  enrolledHeight: number;
  /** Readings on chain: the size of the device's log (device-log.ts). */
  readings: number;
  evidence: number;
  /** Roots of the perfect subtrees of the device's reading log, largest first (device-log.ts). */
  logFrontier: Uint8Array[];
  /** Sequences recorded below `lastSequence` (sequence-window.ts). */
  window: Uint8Array;
  /**
   * Block time at which the device left the active status (0 while active): readings its gateways
   * acknowledged before then still land (received before the revocation), later ones do not.
   */
  statusSinceMs: number;
  /**
   * The short kid the chain assigned at enrollment (shared/short-kid.ts, apply-devices.ts); absent for
   * devices enrolled before short kids existed. Being in the device record, it is proven with it.
   */
  shortKid?: Uint8Array;
}

/** The chain's record of one reading (a leaf of its device's log); the payload stays in the block body. */
export interface ReadingRecord {
  sequence: number;
  digest: Uint8Array; // SHA-256 of the COSE_Sign1
  height: number;
  gatewayId: Uint8Array;
  receivedAtMs: number;
}

export interface Validator {
  id: Uint8Array;
  publicKey: Uint8Array;
  /** Stake-weighted votes at election time. */
  power: bigint;
}

export interface ValidatorSet {
  epoch: number;
  /** In election rank order: votes descending, then id ascending. Consensus rotates over it. */
  validators: Validator[];
}

export interface EvidenceRecord {
  kind: number; // 1 equivocation, 2 observed
  reporter: Uint8Array;
  height: number;
  detail: CborValue;
}

export interface GovernanceVote {
  name: string;
  validatorId: Uint8Array;
  value: bigint;
}

// The field readers of the state records (here and in firmware-records.ts).
export const big = (v: CborValue): bigint => {
  invariant(typeof v === "number" || typeof v === "bigint", "state record: expected an integer");
  return BigInt(v);
};
export const int = (v: CborValue): number => {
  invariant(typeof v === "number" && Number.isSafeInteger(v), "state record: expected a safe integer");
  return v;
};
export const bytes = (v: CborValue): Uint8Array => {
  invariant(v instanceof Uint8Array, "state record: expected bytes");
  return v;
};
export const text = (v: CborValue): string => {
  invariant(typeof v === "string", "state record: expected text");
  return v;
};
export function arr(v: CborValue, n: number, what: string): CborValue[] {
  if (!(Array.isArray(v) && v.length === n)) invariantFailed(`state record ${what} has the wrong shape`);
  return v;
}
export function list(v: CborValue): CborValue[] {
  invariant(Array.isArray(v), "state record: expected an array");
  return v;
}

export const accountCodec = {
  empty: (): Account => ({ balance: 0n, nonce: 0, staked: 0n, unbonding: 0n, votes: [] }),
  isEmpty: (a: Account): boolean => a.balance === 0n && a.nonce === 0 && a.staked === 0n && a.unbonding === 0n && a.votes.length === 0,
  to: (a: Account): CborValue => [a.balance, a.nonce, a.staked, a.unbonding, a.votes],
  from: (v: CborValue): Account => {
    const [balance, nonce, staked, unbonding, votes] = arr(v, 5, "account");
    return { balance: big(balance), nonce: int(nonce), staked: big(staked), unbonding: big(unbonding), votes: list(votes).map(bytes) };
  },
};

export const candidateCodec = {
  to: (c: Candidate): CborValue => [c.publicKey, c.endpoint, c.votes, c.jailedUntilEpoch, c.blocksProduced, c.registeredHeight],
  from: (v: CborValue): Candidate => {
    const [publicKey, endpoint, votes, jailed, produced, registered] = arr(v, 6, "candidate");
    return { publicKey: bytes(publicKey), endpoint: text(endpoint), votes: big(votes), jailedUntilEpoch: int(jailed), blocksProduced: int(produced), registeredHeight: int(registered) };
  },
};

export const deviceCodec = {
  // A 13th element only when the device has a short kid: records of older devices keep their bytes.
  to: (d: Device): CborValue => [d.owner, d.publicKey, d.status, d.lastSequence, new Map<CborValue, CborValue>(d.metadata), d.ttlDays, d.enrolledHeight, d.readings, d.evidence, d.logFrontier, d.window, d.statusSinceMs, ...(d.shortKid ? [d.shortKid] : [])],
  from: (v: CborValue): Device => {
    const withKid = Array.isArray(v) && v.length === 13;
    const [owner, publicKey, status, last, metadata, ttl, enrolled, readings, evidence, frontier, window, since, shortKid] = arr(v, withKid ? 13 : 12, "device");
    invariant(metadata instanceof Map, "device metadata must be a map");
    const s = int(status);
    invariant(s === 1 || s === 2 || s === 3, "device status out of range");
    return {
      owner: bytes(owner),
      publicKey: bytes(publicKey),
      status: s,
      lastSequence: int(last),
      metadata: new Map([...metadata].map(([k, val]) => [text(k), text(val)])),
      ttlDays: int(ttl),
      enrolledHeight: int(enrolled),
      readings: int(readings),
      evidence: int(evidence),
      logFrontier: list(frontier).map(bytes),
      window: bytes(window),
      statusSinceMs: int(since),
      ...(withKid ? { shortKid: bytes(shortKid) } : {}),
    };
  },
};

export const validatorSetCodec = {
  to: (s: ValidatorSet): CborValue => [s.epoch, s.validators.map((x) => [x.id, x.publicKey, x.power])],
  from: (v: CborValue): ValidatorSet => {
    const [epoch, validators] = arr(v, 2, "validators");
    return {
      epoch: int(epoch),
      validators: list(validators).map((x) => {
        const [id, publicKey, power] = arr(x, 3, "validator");
        return { id: bytes(id), publicKey: bytes(publicKey), power: big(power) };
      }),
    };
  },
};

export const idListCodec = {
  to: (ids: Uint8Array[]): CborValue => ids,
  from: (v: CborValue): Uint8Array[] => list(v).map(bytes),
};

/** Unstaked amounts maturing at one height: [account id, amount] in transaction order. */
export const unbondingCodec = {
  to: (entries: [Uint8Array, bigint][]): CborValue => entries.map(([id, amount]) => [id, amount]),
  from: (v: CborValue): [Uint8Array, bigint][] =>
    list(v).map((e) => {
      const [id, amount] = arr(e, 2, "unbonding entry");
      return [bytes(id), big(amount)];
    }),
};

export const evidenceCodec = {
  to: (e: EvidenceRecord): CborValue => [e.kind, e.reporter, e.height, e.detail],
  from: (v: CborValue): EvidenceRecord => {
    const [kind, reporter, height, detail] = arr(v, 4, "evidence");
    return { kind: int(kind), reporter: bytes(reporter), height: int(height), detail };
  },
};

/** Sorted by (name, validator id) so the record's bytes do not depend on arrival order. */
export const governanceCodec = {
  to: (votes: GovernanceVote[]): CborValue => votes.map((g) => [g.name, g.validatorId, g.value]),
  from: (v: CborValue): GovernanceVote[] =>
    list(v).map((e) => {
      const [name, validatorId, value] = arr(e, 3, "governance vote");
      return { name: text(name), validatorId: bytes(validatorId), value: big(value) };
    }),
};

export const chainInfoCodec = {
  to: (c: { chainId: string; genesisTimeMs: number }): CborValue => [c.chainId, c.genesisTimeMs],
  from: (v: CborValue): { chainId: string; genesisTimeMs: number } => {
    const [chainId, genesisTimeMs] = arr(v, 2, "chain");
    return { chainId: text(chainId), genesisTimeMs: int(genesisTimeMs) };
  },
};
