// JSON shapes of chain objects, one function per object, shared by routes and the SSE stream.
// Conventions (documented in openapi.ts): byte strings are lowercase hex; amounts are decimal
// strings (they exceed 2^53); times are Unix milliseconds; heights and counts are integers.
import { sha256, toHex } from "../../shared/ed25519.ts";
import { evidenceKindBatchEquivocation } from "../chain/apply-readings.ts";
import { readingOutcomeNames, type TxResult } from "../chain/reading-outcome.ts";
import { decodeReading, type KidResolver, type SignedReading } from "../../shared/reading.ts";
import type { SenmlRecord } from "../../shared/senml.ts";
import type { DecodedTx } from "../../shared/tx.ts";
import type { BlockHeader } from "../chain/block.ts";
import { decodeCertificate } from "../chain/certificate.ts";
import type { Device, EvidenceRecord } from "../chain/records.ts";
import { contractIdOf } from "../contracts/records.ts";
import { criterionView, runView } from "./contract-views.ts";
import type { ReadingIndexRow } from "./queries.ts";

export const hex = toHex;

export const deviceStatusName = { 1: "active", 2: "revoked", 3: "quarantined" } as const;

export function headerView(h: BlockHeader, hash: Uint8Array) {
  return {
    height: h.height,
    hash: hex(hash),
    previousHash: hex(h.previousHash),
    timeMs: h.timeMs,
    proposer: hex(h.proposer),
    chainId: h.chainId,
    version: h.version,
    validatorSetHash: hex(h.validatorSetHash),
    nextValidatorSetHash: hex(h.nextValidatorSetHash),
    txRoot: hex(h.txRoot),
    stateRoot: hex(h.stateRoot),
    lastCommitHash: hex(h.lastCommitHash),
    resultsRoot: hex(h.resultsRoot),
  };
}

export function blockSummaryView(b: { height: number; hash: Uint8Array; timeMs: number; proposer: Uint8Array; txs: number; readings: number; bodyBytes: number; hasCertificate: boolean }) {
  return { height: b.height, hash: hex(b.hash), timeMs: b.timeMs, proposer: hex(b.proposer), txs: b.txs, readings: b.readings, bodyBytes: b.bodyBytes, certified: b.hasCertificate };
}

/** A commit certificate, decoded; `null` when absent, `{ raw }` when this build cannot read it. */
export function certificateView(bytes: Uint8Array | null) {
  if (!bytes) return null;
  try {
    const c = decodeCertificate(bytes);
    return { height: c.height, round: c.round, blockHash: hex(c.blockHash), signatures: c.signatures.map((s) => ({ validatorId: hex(s.validatorId), signature: hex(s.signature) })), raw: hex(bytes) };
  } catch {
    return { raw: hex(bytes) };
  }
}

export function recordsView(records: SenmlRecord[]) {
  return records.map((r) => ({
    name: r.name,
    ...(r.unit !== undefined && { unit: r.unit }),
    ...(r.value !== undefined && { value: r.value }),
    ...(r.stringValue !== undefined && { stringValue: r.stringValue }),
    ...(r.boolValue !== undefined && { boolValue: r.boolValue }),
    ...(r.dataValue !== undefined && { dataValue: Buffer.from(r.dataValue).toString("hex") }),
    ...(r.contentFormat !== undefined && { contentFormat: r.contentFormat }),
    ...(r.time !== undefined && { time: r.time }),
  }));
}

export function readingView(row: ReadingIndexRow, reading: SignedReading | undefined) {
  return {
    deviceId: hex(row.deviceId),
    sequence: row.sequence,
    receivedAtMs: row.receivedAtMs,
    height: row.height,
    txIndex: row.txIndex,
    position: row.position,
    gatewayId: hex(row.gatewayId),
    digest: hex(row.digest),
    // Bytes leave the store only by expiry (gateway/chain/expiry.ts): the values are gone, the digest stays.
    records: reading ? recordsView(reading.records) : null,
    ...(reading === undefined && { expired: true }),
  };
}

/** Why a device was reported: the chain's evidence records (apply-devices.ts, apply-readings.ts). */
export function evidenceView(e: EvidenceRecord) {
  const detail = Array.isArray(e.detail) ? e.detail : [];
  const base = { reporter: hex(e.reporter), height: e.height };
  if (e.kind === 1 || e.kind === evidenceKindBatchEquivocation) {
    const [first, second] = detail as Uint8Array[];
    let sequence: number | null = null;
    try {
      sequence = decodeReading(second, (kid) => kid).sequence; // only the sequence is shown: the kid need not resolve
    } catch {
      // kept as recorded
    }
    return {
      ...base,
      kind: "equivocation",
      summary: `two different readings signed under sequence ${sequence ?? "?"}: the device's key is cloned or stolen; the device is quarantined`,
      sequence,
      ...(e.kind === 1 ? { first: hex(first), second: hex(second) } : { recordedDigest: hex(first), second: hex(second) }),
    };
  }
  const [badSignatures, replays, floods] = detail as number[];
  return { ...base, kind: "observed", summary: `a gateway observed ${badSignatures} bad signatures, ${replays} replays and ${floods} floods`, badSignatures, replays, floods };
}

/** Why a quarantined device is refused, who reported it, and whether its owner may lift it (quarantine.ts). */
export interface QuarantineView {
  cause: "reports" | "equivocation";
  liftable: boolean;
  reporters: string[];
  sinceHeight: number | null;
}

export function deviceView(id: Uint8Array | string, d: Device, last: ReadingIndexRow | undefined, evidence?: EvidenceRecord[], quarantine?: QuarantineView) {
  return {
    id: typeof id === "string" ? id : hex(id),
    publicKey: hex(d.publicKey),
    owner: hex(d.owner),
    status: deviceStatusName[d.status],
    lastSequence: d.lastSequence,
    readings: d.readings,
    evidence: d.evidence,
    enrolledHeight: d.enrolledHeight,
    ttlDays: d.ttlDays,
    metadata: Object.fromEntries(d.metadata),
    lastReading: last ? { sequence: last.sequence, receivedAtMs: last.receivedAtMs, height: last.height } : null,
    statusSinceMs: d.statusSinceMs || null,
    shortKid: d.shortKid ? hex(d.shortKid) : null,
    ...(evidence ? { evidenceRecords: evidence.map(evidenceView) } : {}),
    ...(quarantine ? { quarantine } : {}),
  };
}

/** Device and sequence of a reading inside a batch (a malformed one has its outcome and no device). */
function readingRef(bytes: Uint8Array, resolveKid: KidResolver): { deviceId: string; sequence: number } | { deviceId: null; sequence: null } {
  try {
    const r = decodeReading(bytes, resolveKid);
    return { deviceId: hex(r.deviceId), sequence: r.sequence };
  } catch {
    return { deviceId: null, sequence: null };
  }
}

function bodyView(tx: DecodedTx, readingsListedMax: number, resolveKid: KidResolver) {
  const b = tx.body;
  switch (b.kind) {
    case "transfer":
      return { to: hex(b.to), amount: b.amount.toString() };
    case "stake":
    case "unstake":
      return { amount: b.amount.toString() };
    case "registerCandidate":
      return { endpoint: b.endpoint };
    case "vote":
      return { candidates: b.candidates.map(hex) };
    case "enrollDevice":
      return { devicePublicKey: hex(b.devicePublicKey), metadata: Object.fromEntries(b.metadata), ttlDays: b.ttlDays };
    case "revokeDevice":
      return { deviceId: hex(b.deviceId) };
    case "readingBatch": {
      const a = b.attestation;
      return {
        attestation: { version: a.version, gatewayId: hex(a.gatewayId), count: a.count, root: hex(a.root), signature: hex(a.signature) },
        readingsTotal: b.readings.length,
        readings: b.readings.slice(0, readingsListedMax).map((r) => ({ ...readingRef(r.bytes, resolveKid), receivedAtMs: r.receivedAtMs })),
      };
    }
    case "reportDevice":
      return b.evidence === "equivocation"
        ? { deviceId: hex(b.deviceId), evidence: b.evidence, first: hex(b.first), second: hex(b.second) }
        : { deviceId: hex(b.deviceId), evidence: b.evidence, badSignatures: b.badSignatures, replays: b.replays, floods: b.floods };
    case "paramVote":
      return { name: b.name, value: b.value.toString() };
    case "validatorEvidence":
      return { evidence: hex(b.evidence) };
    case "deployContract":
      // The code itself is served by GET /v1/contracts/:id; here its size and hash.
      return { contractId: hex(contractIdOf(tx.authorId, tx.nonce)), codeHash: hex(sha256(b.code)), codeBytes: b.code.length, criteria: b.criteria.map(criterionView), readingGasLimit: b.readingGasLimit };
    case "callContract":
      return { contractId: hex(b.contractId), method: b.method, input: hex(b.input), gasLimit: b.gasLimit, amount: b.amount.toString() };
    case "publishRelease":
      return { manifest: hex(b.manifest), location: b.location };
    case "startRollout": {
      const s = b.selector;
      const selector = s.kind === "ids" ? { kind: "ids" } : s.kind === "owner" ? { kind: "owner", owner: hex(s.ownerId) } : { kind: "metadata", key: s.key, value: s.value };
      return { imageId: hex(b.imageId), selector, targets: b.targets.map(hex), inFlightMax: b.inFlightMax };
    }
    case "stopRollout":
      return { rollout: b.rollout };
    case "liftQuarantine":
      return { deviceId: hex(b.deviceId) };
    case "setRetention":
      return { deviceId: b.deviceId ? hex(b.deviceId) : null, seconds: b.seconds };
  }
}

/** A finalized transaction's result; contract runs (a call's, or its readings' triggers) listed like its readings. */
function resultView(r: TxResult, listedMax: number) {
  return {
    failure: r.failure,
    readings: r.readings.slice(0, listedMax).map((o) => readingOutcomeNames[o]),
    ...(r.runs?.length ? { runsTotal: r.runs.length, runs: r.runs.slice(0, listedMax).map(runView) } : {}),
  };
}

export type TxStatus = { status: "finalized"; height: number; index: number; result?: TxResult } | { status: "pending" };

export function txView(tx: DecodedTx, where: TxStatus, readingsListedMax: number, resolveKid: KidResolver) {
  return {
    id: hex(tx.id),
    kind: tx.body.kind,
    author: hex(tx.authorId),
    authorPublicKey: hex(tx.author),
    nonce: tx.nonce,
    fee: tx.fee.toString(),
    bytes: tx.bytes.length,
    ...where,
    result: where.status === "finalized" && where.result ? resultView(where.result, readingsListedMax) : undefined,
    body: bodyView(tx, readingsListedMax, resolveKid),
  };
}
