// Transaction bodies, one CBOR array per kind. Decoding is structural and strict (types, lengths,
// canonical order); whether a body makes sense against the chain's state is the chain's business
// (gateway/chain/). Type numbers are the wire identity of a kind: never reuse or renumber one.
//
//   1 transfer           [to (account id, 16), amount]
//   2 stake              [amount]                              bond from balance
//   3 unstake            [amount]                              starts the unbonding period
//   4 registerCandidate  [endpoint (text)]                     author's gateway becomes a delegate candidate
//   5 vote               [[candidate id (16)...]]              ascending, distinct; replaces the previous vote
//   6 enrollDevice       [device public key (32), {text: text} metadata, ttlDays]   author becomes the owner
//   7 revokeDevice       [device id (16)]
//   8 readingBatch       [bstr attestation (shared/attestation.ts), [[bstr COSE_Sign1, receivedAtMs]...]]
//   9 reportDevice       [device id, 1, [bstr COSE_Sign1, bstr COSE_Sign1]]   equivocation: same seq, two readings
//                        [device id, 2, [badSignatures, replays, floods, ? [bstr datagram...]]]   what a gateway
//                                                              observed, with up to 4 of the datagrams (device-signed
//                                                              when they verify; forged ones are the point otherwise)
//  10 paramVote          [name (text), value]                  a validator's vote for a parameter value
//  11 validatorEvidence  [bstr evidence]                       a validator's double signature (gateway/consensus/evidence.ts
//                                                              encodeEvidence, at most validatorEvidenceBytesMax bytes)
//  12 deployContract     [bstr code, [criterion...], readingGasLimit]   WebAssembly (gateway/contracts/); criterion:
//                        [1, device id] | [2, owner id] | [3, metadata key, value]  (a reading matches any one)
//  13 callContract       [contract id (16), method (text), bstr input, gasLimit, amount]   amount moves to the contract first
//  14 publishRelease     [bstr manifest (COSE_Sign1, shared/firmware-manifest.ts), location (http(s) URL text)]
//  15 startRollout       [image id (8), selector, [device id (16)...], inFlightMax]   targets ascending, distinct;
//                        selector: [1] the ids themselves | [2, owner id] | [3, metadata key, value]
//  16 stopRollout        [rollout number]                      no more offers; progress stays on record
//  17 liftQuarantine     [device id (16)]                      the owner lifts a quarantine that gateways' reports
//                                                              imposed (never one for equivocation: that key is compromised)
//  18 setRetention       [device id (16) / null, seconds]      the owner's retention for one device, or (null) for all
//                                                              of its devices; 0 = keep forever (docs/expiry.md)
import { encode, type CborValue } from "./cbor.ts";
import { batchReadingsMax, decodeAttestation, encodeAttestation, type BatchAttestation } from "./attestation.ts";
import { MoteError } from "./errors.ts";
import { readingBytesMax } from "./reading.ts";

/** A transaction that does not decode, is over a limit or does not verify. `code` is stable. */
export class TxError extends MoteError {}

export const txKinds = {
  transfer: 1,
  stake: 2,
  unstake: 3,
  registerCandidate: 4,
  vote: 5,
  enrollDevice: 6,
  revokeDevice: 7,
  readingBatch: 8,
  reportDevice: 9,
  paramVote: 10,
  validatorEvidence: 11,
  deployContract: 12,
  callContract: 13,
  publishRelease: 14,
  startRollout: 15,
  stopRollout: 16,
  liftQuarantine: 17,
  setRetention: 18,
} as const;
export type TxKind = keyof typeof txKinds;

export const accountIdBytes = 16;
export const endpointBytesMax = 128;
export const votesPerVoterMax = 30; // a wire cap; the chain's own `votesMax` parameter is lower or equal
export const metadataEntriesMax = 16;
export const metadataKeyBytesMax = 32;
export const metadataValueBytesMax = 128;
export const paramNameBytesMax = 32;
/**
 * Encoded consensus evidence: an array of 8 with two u64s, a type, a 32-byte key, two 32-byte
 * hashes and two 64-byte signatures is at most 254 bytes. Its structure is the chain's to check.
 */
export const validatorEvidenceBytesMax = 256;
/** Contract code on the wire (gateway/contracts/limits.ts codeBytesMax is the same figure). */
export const contractCodeBytesMax = 64 * 1024;
export const contractCriteriaMax = 8;
export const contractMethodBytesMax = 32;
export const contractInputBytesMax = 1024;
export const metadataCriterionBytesMax = 128;
/** A release's manifest on the wire (shared/firmware-manifest.ts manifestBytesMax is the same figure). */
export const releaseManifestBytesMax = 256;
export const releaseLocationBytesMax = 256;
export const imageIdBytes = 8;
/** Devices one rollout may target: 1,024 ids of 16 bytes keep the transaction under txRolloutBytesMax. */
export const rolloutTargetsMax = 1024;
export const rolloutInFlightMax = 1024;

/** u64: amounts are CBOR unsigned integers and never exceed 64 bits. */
export const amountMax = 2n ** 64n - 1n;

export interface AttachedReading {
  bytes: Uint8Array; // COSE_Sign1 exactly as the device sent it
  receivedAtMs: number;
}

export type DeviceReport =
  | { evidence: "equivocation"; first: Uint8Array; second: Uint8Array }
  | { evidence: "observed"; badSignatures: number; replays: number; floods: number; samples?: Uint8Array[] };

/** Datagrams a gateway may attach to what it observed of a device. */
export const reportSamplesMax = 4;

export type TxBody =
  | { kind: "transfer"; to: Uint8Array; amount: bigint }
  | { kind: "stake"; amount: bigint }
  | { kind: "unstake"; amount: bigint }
  | { kind: "registerCandidate"; endpoint: string }
  | { kind: "vote"; candidates: Uint8Array[] }
  | { kind: "enrollDevice"; devicePublicKey: Uint8Array; metadata: Map<string, string>; ttlDays: number }
  | { kind: "revokeDevice"; deviceId: Uint8Array }
  | { kind: "readingBatch"; attestation: BatchAttestation; readings: AttachedReading[] }
  | ({ kind: "reportDevice"; deviceId: Uint8Array } & DeviceReport)
  | { kind: "paramVote"; name: string; value: bigint }
  | { kind: "validatorEvidence"; evidence: Uint8Array }
  | { kind: "deployContract"; code: Uint8Array; criteria: ContractCriterion[]; readingGasLimit: number }
  | { kind: "callContract"; contractId: Uint8Array; method: string; input: Uint8Array; gasLimit: number; amount: bigint }
  | { kind: "publishRelease"; manifest: Uint8Array; location: string }
  | { kind: "startRollout"; imageId: Uint8Array; selector: RolloutSelector; targets: Uint8Array[]; inFlightMax: number }
  | { kind: "stopRollout"; rollout: number }
  | { kind: "liftQuarantine"; deviceId: Uint8Array }
  | { kind: "setRetention"; deviceId: Uint8Array | null; seconds: number };

/** How a rollout's author chose its targets; the chain checks every target matches it. */
export type RolloutSelector = { kind: "ids" } | { kind: "owner"; ownerId: Uint8Array } | { kind: "metadata"; key: string; value: string };

/** What a contract subscribes to (gateway/contracts/records.ts keeps the same shapes in state). */
export type ContractCriterion = { kind: "device"; deviceId: Uint8Array } | { kind: "owner"; ownerId: Uint8Array } | { kind: "metadata"; key: string; value: string };

export function txTypeOfKind(kind: TxKind): number {
  return txKinds[kind];
}

const kindByType = new Map<number, TxKind>(Object.entries(txKinds).map(([k, v]) => [v, k as TxKind]));
export function txKindOfType(type: number): TxKind | undefined {
  return kindByType.get(type);
}

function fail(message: string): never {
  throw new TxError("TX_MALFORMED", message);
}

/** An unsigned integer of at most 64 bits, as a bigint (amounts, fees, parameter values). */
export function uint64(v: CborValue, what: string): bigint {
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  if (typeof v === "bigint" && v >= 0n && v <= amountMax) return v;
  return fail(`${what} must be an unsigned integer of at most 64 bits`);
}

function positiveAmount(v: CborValue): bigint {
  const a = uint64(v, "amount");
  if (a === 0n) fail("amount must be above zero");
  return a;
}

function fixedBytes(v: CborValue, length: number, what: string): Uint8Array {
  if (!(v instanceof Uint8Array) || v.length !== length) fail(`${what} must be ${length} bytes`);
  return v;
}

function smallUint(v: CborValue, what: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) fail(`${what} must be an unsigned integer below 2^53`);
  return v;
}

function boundedText(v: CborValue, bytesMax: number, what: string): string {
  if (typeof v !== "string" || Buffer.byteLength(v) > bytesMax) fail(`${what} must be text of at most ${bytesMax} bytes`);
  return v;
}

function fields(v: CborValue, n: number, kind: string): CborValue[] {
  if (!Array.isArray(v) || v.length !== n) fail(`${kind} body must be an array of ${n}`);
  return v;
}

function ascendingDistinct(ids: Uint8Array[]): boolean {
  for (let i = 1; i < ids.length; i++) if (Buffer.compare(ids[i - 1], ids[i]) >= 0) return false;
  return true;
}

function metadataFromCbor(v: CborValue): Map<string, string> {
  if (!(v instanceof Map) || v.size > metadataEntriesMax) fail(`metadata must be a map of at most ${metadataEntriesMax} entries`);
  const out = new Map<string, string>();
  for (const [k, val] of v) out.set(boundedText(k, metadataKeyBytesMax, "metadata key"), boundedText(val, metadataValueBytesMax, "metadata value"));
  return out;
}

function readingsFromCbor(v: CborValue): AttachedReading[] {
  if (!Array.isArray(v) || v.length < 1 || v.length > batchReadingsMax) fail(`a batch carries 1 to ${batchReadingsMax} readings`);
  return v.map((pair) => {
    const [bytes, receivedAtMs] = fields(pair, 2, "reading");
    if (!(bytes instanceof Uint8Array) || bytes.length > readingBytesMax) fail(`a reading must be a byte string of at most ${readingBytesMax} bytes`);
    return { bytes, receivedAtMs: smallUint(receivedAtMs, "receivedAtMs") };
  });
}

function reportFromCbor(v: CborValue): TxBody {
  const [deviceId, evidence, detail] = fields(v, 3, "reportDevice");
  const id = fixedBytes(deviceId, accountIdBytes, "device id");
  if (evidence === 1) {
    const [first, second] = fields(detail, 2, "equivocation evidence");
    if (!(first instanceof Uint8Array) || !(second instanceof Uint8Array)) fail("equivocation evidence is two COSE_Sign1 byte strings");
    return { kind: "reportDevice", deviceId: id, evidence: "equivocation", first, second };
  }
  if (evidence === 2) {
    if (!Array.isArray(detail) || (detail.length !== 3 && detail.length !== 4)) fail("observed evidence is [badSignatures, replays, floods, ? [datagram...]]");
    const [badSignatures, replays, floods] = detail.slice(0, 3).map((c, i) => smallUint(c, `count ${i}`));
    if (detail.length === 3) return { kind: "reportDevice", deviceId: id, evidence: "observed", badSignatures, replays, floods };
    const samples = detail[3];
    if (!Array.isArray(samples) || samples.length === 0 || samples.length > reportSamplesMax) fail(`observed evidence carries 1 to ${reportSamplesMax} datagrams, or none (3 elements)`);
    for (const d of samples) if (!(d instanceof Uint8Array) || d.length === 0 || d.length > readingBytesMax) fail(`a datagram of observed evidence is 1 to ${readingBytesMax} bytes`);
    return { kind: "reportDevice", deviceId: id, evidence: "observed", badSignatures, replays, floods, samples: samples as Uint8Array[] };
  }
  return fail(`evidence kind ${String(evidence)} is unknown (1 equivocation, 2 observed)`);
}

function criterionFromCbor(v: CborValue): ContractCriterion {
  if (!Array.isArray(v)) fail("a criterion must be an array");
  if (v[0] === 1 && v.length === 2) return { kind: "device", deviceId: fixedBytes(v[1], accountIdBytes, "criterion device id") };
  if (v[0] === 2 && v.length === 2) return { kind: "owner", ownerId: fixedBytes(v[1], accountIdBytes, "criterion owner id") };
  if (v[0] === 3 && v.length === 3) return { kind: "metadata", key: boundedText(v[1], metadataKeyBytesMax, "criterion metadata key"), value: boundedText(v[2], metadataCriterionBytesMax, "criterion metadata value") };
  return fail("a criterion is [1, device id], [2, owner id] or [3, metadata key, value]");
}

function criterionToCbor(c: ContractCriterion): CborValue {
  return c.kind === "device" ? [1, c.deviceId] : c.kind === "owner" ? [2, c.ownerId] : [3, c.key, c.value];
}

function selectorFromCbor(v: CborValue): RolloutSelector {
  if (!Array.isArray(v)) fail("a rollout selector must be an array");
  if (v[0] === 1 && v.length === 1) return { kind: "ids" };
  if (v[0] === 2 && v.length === 2) return { kind: "owner", ownerId: fixedBytes(v[1], accountIdBytes, "selector owner id") };
  if (v[0] === 3 && v.length === 3) return { kind: "metadata", key: boundedText(v[1], metadataKeyBytesMax, "selector metadata key"), value: boundedText(v[2], metadataValueBytesMax, "selector metadata value") };
  return fail("a rollout selector is [1], [2, owner id] or [3, metadata key, value]");
}

function selectorToCbor(s: RolloutSelector): CborValue {
  return s.kind === "ids" ? [1] : s.kind === "owner" ? [2, s.ownerId] : [3, s.key, s.value];
}

function rolloutFromCbor(v: CborValue): TxBody {
  const [imageId, selector, targets, inFlightMax] = fields(v, 4, "startRollout");
  if (!Array.isArray(targets) || targets.length < 1 || targets.length > rolloutTargetsMax) fail(`a rollout targets 1 to ${rolloutTargetsMax} devices`);
  const ids = targets.map((t) => fixedBytes(t, accountIdBytes, "target device id"));
  if (!ascendingDistinct(ids)) fail("rollout targets must be distinct and in ascending byte order");
  const n = smallUint(inFlightMax, "inFlightMax");
  if (n < 1 || n > rolloutInFlightMax) fail(`inFlightMax must be 1 to ${rolloutInFlightMax}`);
  return { kind: "startRollout", imageId: fixedBytes(imageId, imageIdBytes, "image id"), selector: selectorFromCbor(selector), targets: ids, inFlightMax: n };
}

export function bodyFromCbor(kind: TxKind, v: CborValue): TxBody {
  switch (kind) {
    case "transfer": {
      const [to, amount] = fields(v, 2, kind);
      return { kind, to: fixedBytes(to, accountIdBytes, "recipient"), amount: positiveAmount(amount) };
    }
    case "stake":
    case "unstake":
      return { kind, amount: positiveAmount(fields(v, 1, kind)[0]) };
    case "registerCandidate":
      return { kind, endpoint: boundedText(fields(v, 1, kind)[0], endpointBytesMax, "endpoint") };
    case "vote": {
      const [list] = fields(v, 1, kind);
      if (!Array.isArray(list) || list.length > votesPerVoterMax) fail(`a vote names at most ${votesPerVoterMax} candidates`);
      const candidates = list.map((c) => fixedBytes(c, accountIdBytes, "candidate id"));
      if (!ascendingDistinct(candidates)) fail("vote candidates must be distinct and in ascending byte order");
      return { kind, candidates };
    }
    case "enrollDevice": {
      const [key, metadata, ttlDays] = fields(v, 3, kind);
      return { kind, devicePublicKey: fixedBytes(key, 32, "device public key"), metadata: metadataFromCbor(metadata), ttlDays: smallUint(ttlDays, "ttlDays") };
    }
    case "revokeDevice":
      return { kind, deviceId: fixedBytes(fields(v, 1, kind)[0], accountIdBytes, "device id") };
    case "readingBatch": {
      const [att, readings] = fields(v, 2, kind);
      if (!(att instanceof Uint8Array)) fail("attestation must be a byte string");
      let attestation: BatchAttestation;
      try {
        attestation = decodeAttestation(att);
      } catch (e) {
        return fail(`attestation: ${(e as Error).message}`);
      }
      return { kind, attestation, readings: readingsFromCbor(readings) };
    }
    case "reportDevice":
      return reportFromCbor(v);
    case "paramVote": {
      const [name, value] = fields(v, 2, kind);
      return { kind, name: boundedText(name, paramNameBytesMax, "parameter name"), value: uint64(value, "parameter value") };
    }
    case "validatorEvidence": {
      const [evidence] = fields(v, 1, kind);
      if (!(evidence instanceof Uint8Array) || evidence.length === 0 || evidence.length > validatorEvidenceBytesMax) {
        fail(`validator evidence must be a byte string of 1 to ${validatorEvidenceBytesMax} bytes`);
      }
      return { kind, evidence };
    }
    case "deployContract": {
      const [code, criteria, gas] = fields(v, 3, kind);
      if (!(code instanceof Uint8Array) || code.length === 0 || code.length > contractCodeBytesMax) fail(`contract code must be 1 to ${contractCodeBytesMax} bytes`);
      if (!Array.isArray(criteria) || criteria.length > contractCriteriaMax) fail(`a contract has at most ${contractCriteriaMax} subscription criteria`);
      return { kind, code, criteria: criteria.map(criterionFromCbor), readingGasLimit: smallUint(gas, "readingGasLimit") };
    }
    case "callContract": {
      const [id, method, input, gas, amount] = fields(v, 5, kind);
      if (!(input instanceof Uint8Array) || input.length > contractInputBytesMax) fail(`call input must be a byte string of at most ${contractInputBytesMax} bytes`);
      return { kind, contractId: fixedBytes(id, accountIdBytes, "contract id"), method: boundedText(method, contractMethodBytesMax, "method"), input, gasLimit: smallUint(gas, "gasLimit"), amount: uint64(amount, "amount") };
    }
    case "publishRelease": {
      const [manifest, location] = fields(v, 2, kind);
      if (!(manifest instanceof Uint8Array) || manifest.length === 0 || manifest.length > releaseManifestBytesMax) fail(`a release manifest must be 1 to ${releaseManifestBytesMax} bytes`);
      const url = boundedText(location, releaseLocationBytesMax, "release location");
      if (!/^https?:\/\/[^\s]+$/.test(url)) fail("release location must be an http(s) URL");
      return { kind, manifest, location: url };
    }
    case "startRollout":
      return rolloutFromCbor(v);
    case "stopRollout": {
      const n = smallUint(fields(v, 1, kind)[0], "rollout number");
      if (n < 1) fail("rollout numbers start at 1");
      return { kind, rollout: n };
    }
    case "liftQuarantine":
      return { kind, deviceId: fixedBytes(fields(v, 1, kind)[0], accountIdBytes, "device id") };
    case "setRetention": {
      const [target, seconds] = fields(v, 2, kind);
      return { kind, deviceId: target === null ? null : fixedBytes(target, accountIdBytes, "device id"), seconds: smallUint(seconds, "retention seconds") };
    }
  }
}

export function bodyToCbor(b: TxBody): CborValue {
  switch (b.kind) {
    case "transfer":
      return [b.to, b.amount];
    case "stake":
    case "unstake":
      return [b.amount];
    case "registerCandidate":
      return [b.endpoint];
    case "vote":
      return [b.candidates];
    case "enrollDevice":
      return [b.devicePublicKey, new Map<CborValue, CborValue>(b.metadata), b.ttlDays];
    case "revokeDevice":
      return [b.deviceId];
    case "readingBatch":
      return [encodeAttestation(b.attestation), b.readings.map((r) => [r.bytes, r.receivedAtMs])];
    case "reportDevice":
      if (b.evidence === "equivocation") return [b.deviceId, 1, [b.first, b.second]];
      return [b.deviceId, 2, b.samples?.length ? [b.badSignatures, b.replays, b.floods, b.samples] : [b.badSignatures, b.replays, b.floods]];
    case "paramVote":
      return [b.name, b.value];
    case "validatorEvidence":
      return [b.evidence];
    case "deployContract":
      return [b.code, b.criteria.map(criterionToCbor), b.readingGasLimit];
    case "callContract":
      return [b.contractId, b.method, b.input, b.gasLimit, b.amount];
    case "publishRelease":
      return [b.manifest, b.location];
    case "startRollout":
      return [b.imageId, selectorToCbor(b.selector), b.targets, b.inFlightMax];
    case "stopRollout":
      return [b.rollout];
    case "liftQuarantine":
      return [b.deviceId];
    case "setRetention":
      return [b.deviceId, b.seconds];
  }
}

/** Size of a body once encoded (for fee and limit checks before signing). */
export function bodyBytes(b: TxBody): number {
  return encode(bodyToCbor(b)).length;
}
