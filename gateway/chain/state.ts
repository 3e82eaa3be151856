// Typed access to the chain state through layered write overlays:
//
//   committed store (SQLite)  ←  block overlay  ←  transaction overlay
//
// A transaction writes into its own overlay and is merged into the block's only if it applies
// whole; a block's overlay becomes the set of state changes committed with it (or is dropped, if
// consensus does not commit the block). Nothing below the overlays changes during execution, so
// "propose → validate → commit" never touches the store before commit.
import { decode, encode, type CborValue } from "../../shared/cbor.ts";
import { stateKey } from "./keys.ts";
import {
  accountCodec,
  candidateCodec,
  chainInfoCodec,
  deviceCodec,
  evidenceCodec,
  governanceCodec,
  idListCodec,
  unbondingCodec,
  validatorSetCodec,
  type Account,
  type Candidate,
  type Device,
  type EvidenceRecord,
  type GovernanceVote,
  type ValidatorSet,
} from "./records.ts";
import { gasParamsToCbor, paramsFromCbor, paramsToCbor, type ChainParams } from "./params.ts";
import { invariant, invariantFailed } from "./errors.ts";

export interface StateReader {
  get(key: string): Uint8Array | undefined;
}

/** Changes of one block or transaction: bytes to store, or null to delete the key. */
export type StateWrites = Map<string, Uint8Array | null>;

/**
 * Committed records decoded once: keyed by the bytes the store holds (its state cache hands out the
 * same array until the key is written again), each read gets a copy. A validator reads a device's
 * record for gossip admission, a proposal's pre-verification, the mempool and execution, for every
 * batch that carries the device: at bench:net's 160 devices, one decode per reading each time.
 */
const committedRecords = new WeakMap<Uint8Array, { from: unknown; value: unknown }>();

export class StateOverlay implements StateReader {
  readonly writes: StateWrites = new Map();
  /**
   * Records written as objects and not encoded yet (devices: each batch of a block rewrites the
   * records of the devices it carries, so encoding them once per block instead of once per batch
   * is most of what a reading's execution used to spend on its device). A key is in `writes` or
   * here, never both; `flush` encodes them into `writes`, which holds the bytes only after it.
   */
  private readonly deferred = new Map<string, { value: unknown; encode: (v: never) => Uint8Array }>();
  constructor(readonly parent: StateReader) {}

  get(key: string): Uint8Array | undefined {
    if (this.deferred.has(key)) this.flushKey(key);
    const w = this.writes.get(key);
    if (w !== undefined) return w ?? undefined;
    return this.parent.get(key);
  }

  set(key: string, value: Uint8Array | null): void {
    this.deferred.delete(key);
    this.writes.set(key, value);
  }

  /** The record under `key` as an object: a copy of one deferred here or below, else decoded from its bytes. */
  record<T>(key: string, from: (bytes: Uint8Array) => T, copy: (v: T) => T): T | undefined {
    const d = this.deferred.get(key);
    if (d !== undefined) return copy(d.value as T);
    const w = this.writes.get(key);
    if (w !== undefined) return w === null ? undefined : from(w);
    if (this.parent instanceof StateOverlay) return this.parent.record(key, from, copy);
    const bytes = this.parent.get(key);
    if (bytes === undefined) return undefined;
    const known = committedRecords.get(bytes);
    if (known?.from === from) return copy(known.value as T);
    const value = from(bytes);
    committedRecords.set(bytes, { from, value });
    return copy(value);
  }

  /** Writes a record whose bytes `encode` gives when they are needed (get, flush). */
  setRecord<T>(key: string, value: T, encode: (v: T) => Uint8Array): void {
    this.writes.delete(key);
    this.deferred.set(key, { value, encode: encode as (v: never) => Uint8Array });
  }

  /** Moves a child overlay's writes, deferred ones included, into this one. */
  absorb(child: StateOverlay): void {
    for (const [k, v] of child.writes) this.set(k, v);
    for (const [k, d] of child.deferred) {
      this.writes.delete(k);
      this.deferred.set(k, d);
    }
  }

  /** Encodes the deferred records: `writes` then holds every change as bytes. */
  flush(): StateWrites {
    for (const key of [...this.deferred.keys()]) this.flushKey(key);
    return this.writes;
  }

  private flushKey(key: string): void {
    const d = this.deferred.get(key)!;
    this.deferred.delete(key);
    this.writes.set(key, d.encode(d.value as never));
  }
}

// Our own records: generous limits, but still limits (a corrupt row must not blow the heap).
const recordLimits = { depthMax: 8, itemsMax: 200_000, bytesMax: 1 << 20 };

/**
 * The last parameters decoded, with the bytes they came from. Every transaction's admission and
 * execution, each feed tick and each timer asks for them, and they change only by governance at an
 * epoch's end: decoding them each time was 4% of a gateway's main thread at 100 readings/s
 * (bench:net). Keyed by the records' exact bytes, so a hit is a pure fact; the value is frozen
 * because every caller shares it.
 */
let paramsMemo: { bytes: Uint8Array; gasBytes: Uint8Array | undefined; params: ChainParams } | undefined;
const sameBytes = (a: Uint8Array | undefined, b: Uint8Array | undefined) => (a === undefined || b === undefined ? a === b : Buffer.compare(a, b) === 0);

/** Typed records over one overlay. */
/** Short kid → device id against a state (entries are permanent, so the latest state resolves any block's readings). */
export const kidResolverOf = (reader: StateReader) => (kid: Uint8Array): Uint8Array | undefined => new State(reader).deviceIdOfKid(kid);

export class State {
  readonly overlay: StateOverlay;
  constructor(parent: StateReader) {
    this.overlay = new StateOverlay(parent);
  }

  /** A child state whose writes reach this one only through `merge`. */
  fork(): State {
    return new State(this.overlay);
  }

  /** Moves a fork's writes into this state. */
  merge(child: State): void {
    invariant(child.overlay.parent === this.overlay, "merging a state that is not a fork of this one");
    this.overlay.absorb(child.overlay);
  }

  /** The record under `key` through its codec's `from`; also the typed views of other parts (firmware-state.ts). */
  read<T>(key: string, from: (v: CborValue) => T): T | undefined {
    const bytes = this.overlay.get(key);
    return bytes === undefined ? undefined : from(decode(bytes, recordLimits));
  }

  /** Writes a record's CBOR under `key`, or deletes the key (null). */
  write(key: string, value: CborValue | null): void {
    this.overlay.set(key, value === null ? null : encode(value));
  }

  account(id: Uint8Array): Account {
    return this.read(stateKey.account(id), accountCodec.from) ?? accountCodec.empty();
  }
  /** Empty accounts are deleted, so the state does not grow with every address ever paid. */
  setAccount(id: Uint8Array, a: Account): void {
    invariant(a.balance >= 0n && a.staked >= 0n && a.unbonding >= 0n, "account amounts must never be negative");
    this.write(stateKey.account(id), accountCodec.isEmpty(a) ? null : accountCodec.to(a));
  }

  candidate(id: Uint8Array): Candidate | undefined {
    return this.read(stateKey.candidate(id), candidateCodec.from);
  }
  setCandidate(id: Uint8Array, c: Candidate): void {
    invariant(c.votes >= 0n, "candidate votes must never be negative");
    this.write(stateKey.candidate(id), candidateCodec.to(c));
  }
  candidateIds(): Uint8Array[] {
    return this.read(stateKey.candidates(), idListCodec.from) ?? [];
  }
  setCandidateIds(ids: Uint8Array[]): void {
    this.write(stateKey.candidates(), idListCodec.to(ids));
  }

  /** A copy the caller may change; it reaches the state through setDevice. */
  device(id: Uint8Array): Device | undefined {
    return this.overlay.record(stateKey.device(id), decodeDevice, copyDevice);
  }

  /**
   * The device's record to read, not to change: not copied (the store's is frozen, a pending write
   * is the state's own). Admission and pre-verification read the key and status of every reading's
   * device, and the copy device() makes cost them more than the rest of the look-up.
   */
  deviceView(id: Uint8Array): Readonly<Device> | undefined {
    return this.overlay.record(stateKey.device(id), decodeDevice, asIs);
  }
  /**
   * Kept as an object until the block's writes are flushed (StateOverlay.setRecord): the state owns
   * `d` from here, and the caller must not change it afterwards (read it again to change it).
   */
  setDevice(id: Uint8Array, d: Device): void {
    this.overlay.setRecord(stateKey.device(id), d, encodeDevice);
  }

  /** How many short kids were assigned: the next device's number. */
  shortKidsAssigned(): number {
    return this.read(stateKey.shortKids(), (v) => {
      invariant(typeof v === "number" && Number.isSafeInteger(v) && v >= 0, "short kid counter is not a count");
      return v;
    }) ?? 0;
  }
  setShortKidsAssigned(n: number): void {
    this.write(stateKey.shortKids(), n);
  }
  /** The device a short kid stands for. Entries are never deleted or reassigned. */
  deviceIdOfKid(kid: Uint8Array): Uint8Array | undefined {
    return this.read(stateKey.deviceByKid(kid), (v) => {
      invariant(v instanceof Uint8Array && v.length === 16, "short kid entry is not a device id");
      return v;
    });
  }
  setDeviceIdOfKid(kid: Uint8Array, deviceId: Uint8Array): void {
    invariant(this.deviceIdOfKid(kid) === undefined, "a short kid is assigned once");
    this.write(stateKey.deviceByKid(kid), deviceId);
  }

  evidence(deviceId: Uint8Array, index: number): EvidenceRecord | undefined {
    return this.read(stateKey.evidence(deviceId, index), evidenceCodec.from);
  }
  setEvidence(deviceId: Uint8Array, index: number, e: EvidenceRecord): void {
    this.write(stateKey.evidence(deviceId, index), evidenceCodec.to(e));
  }

  /** The block height at which evidence against `validatorId` for (height, round) was applied. */
  validatorEvidenceHeight(validatorId: Uint8Array, height: number, round: number): number | undefined {
    return this.read(stateKey.validatorEvidence(validatorId, height, round), (v) => {
      invariant(typeof v === "number", "validator evidence marker is not a height");
      return v;
    });
  }
  setValidatorEvidenceHeight(validatorId: Uint8Array, height: number, round: number, appliedAt: number): void {
    this.write(stateKey.validatorEvidence(validatorId, height, round), appliedAt);
  }

  unbonding(height: number): [Uint8Array, bigint][] {
    return this.read(stateKey.unbonding(height), unbondingCodec.from) ?? [];
  }
  setUnbonding(height: number, entries: [Uint8Array, bigint][]): void {
    this.write(stateKey.unbonding(height), entries.length ? unbondingCodec.to(entries) : null);
  }

  validators(): ValidatorSet {
    const set = this.read(stateKey.validators(), validatorSetCodec.from);
    invariant(set !== undefined, "state has no validator set (was genesis applied?)");
    return set;
  }
  setValidators(s: ValidatorSet): void {
    invariant(s.validators.length > 0, "a validator set is never empty");
    this.write(stateKey.validators(), validatorSetCodec.to(s));
  }

  /** The set before the last boundary (undefined until the first boundary). */
  previousValidators(): ValidatorSet | undefined {
    return this.read(stateKey.previousValidators(), validatorSetCodec.from);
  }
  setPreviousValidators(s: ValidatorSet): void {
    this.write(stateKey.previousValidators(), validatorSetCodec.to(s));
  }

  /**
   * The set that certified the blocks of `epoch`: the current set, or one archived at its epoch's
   * end. Undefined for an epoch that has not started.
   */
  epochValidators(epoch: number): ValidatorSet | undefined {
    const current = this.validators();
    if (current.epoch === epoch) return current;
    if (epoch > current.epoch) return undefined;
    const set = this.read(stateKey.epochValidators(epoch), validatorSetCodec.from);
    if (!(set === undefined || set.epoch === epoch)) invariantFailed(`validators/epoch/${epoch} holds the set of epoch ${set?.epoch}`);
    return set;
  }
  setEpochValidators(s: ValidatorSet): void {
    invariant(s.validators.length > 0, "a validator set is never empty");
    this.write(stateKey.epochValidators(s.epoch), validatorSetCodec.to(s));
  }

  /** The chain's parameters: frozen, and shared while their bytes are unchanged (paramsMemo). */
  params(): ChainParams {
    const bytes = this.overlay.get(stateKey.params());
    invariant(bytes !== undefined, "state has no parameters (was genesis applied?)");
    const gasBytes = this.overlay.get(stateKey.gasParams());
    if (paramsMemo && sameBytes(paramsMemo.bytes, bytes) && sameBytes(paramsMemo.gasBytes, gasBytes)) return paramsMemo.params;
    const gas = gasBytes === undefined ? undefined : decode(gasBytes, recordLimits);
    const params = Object.freeze(paramsFromCbor(decode(bytes, recordLimits), gas));
    paramsMemo = { bytes: bytes.slice(), gasBytes: gasBytes?.slice(), params };
    return params;
  }
  setParams(p: ChainParams): void {
    this.write(stateKey.params(), paramsToCbor(p));
    // The gas schedule's record exists only while it differs from the defaults; written only when
    // it changes, so chains that never touch it keep the state (and roots) they had before contracts.
    const gas = gasParamsToCbor(p);
    const stored = this.overlay.get(stateKey.gasParams());
    if (gas === null ? stored !== undefined : stored === undefined || Buffer.compare(stored, encode(gas)) !== 0) this.write(stateKey.gasParams(), gas);
  }

  governance(): GovernanceVote[] {
    return this.read(stateKey.governance(), governanceCodec.from) ?? [];
  }
  setGovernance(votes: GovernanceVote[]): void {
    this.write(stateKey.governance(), votes.length ? governanceCodec.to(votes) : null);
  }

  chainInfo(): { chainId: string; genesisTimeMs: number } {
    const c = this.read(stateKey.chain(), chainInfoCodec.from);
    invariant(c !== undefined, "state has no chain record (was genesis applied?)");
    return c;
  }
  setChainInfo(c: { chainId: string; genesisTimeMs: number }): void {
    this.write(stateKey.chain(), chainInfoCodec.to(c));
  }
}

const encodeDevice = (d: Device): Uint8Array => encode(deviceCodec.to(d));

const asIs = <T>(v: T): T => v;

/** Frozen where copyDevice shares it: the decoded record is cached (committedRecords), callers get copies. */
function decodeDevice(bytes: Uint8Array): Device {
  const d = deviceCodec.from(decode(bytes, recordLimits));
  Object.freeze(d.logFrontier);
  return Object.freeze(d);
}

/**
 * A device record for a caller to change. Only the sequence window is changed in place
 * (sequence-window.ts windowRecord); the byte strings, the metadata map and the log frontier are
 * replaced whole when they change, never edited, so the copy shares them.
 */
function copyDevice(d: Device): Device {
  // A literal rather than a spread: this runs for every device of every batch. A field added to
  // Device must be added here (an optional one is not caught by the compiler).
  const c: Device = { owner: d.owner, publicKey: d.publicKey, status: d.status, lastSequence: d.lastSequence, metadata: d.metadata, ttlDays: d.ttlDays, enrolledHeight: d.enrolledHeight, readings: d.readings, evidence: d.evidence, logFrontier: d.logFrontier, window: new Uint8Array(d.window), statusSinceMs: d.statusSinceMs };
  if (d.shortKid !== undefined) c.shortKid = d.shortKid;
  return c;
}

/** Hash of a validator set as headers carry it. */
export function encodeValidatorSet(s: ValidatorSet): Uint8Array {
  return encode(validatorSetCodec.to(s));
}
