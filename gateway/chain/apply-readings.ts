// The reading batch: a gateway's co-signed batch of device readings (shared/attestation.ts) and
// the chain's main traffic. The batch-level checks serve the mempool (admitReadingBatch, which also
// verifies the device signatures ahead of execution) and the state machine (checkReadingBatch).
//
// The batch as a whole (a failure rejects the transaction; an honest gateway never meets one):
//   1. size: 1..batchReadingsMax readings;
//   2. the author is a registered gateway, the attestation names it and counts the readings;
//   3. the gateway's signature over the Merkle root of (digest, receivedAtMs) leaves.
// Each reading on its own, with an outcome in the block's results (reading-outcome.ts), so one
// reading never sinks a batch and a batch never wedges its gateway's nonces:
//   decodes; device enrolled; device active, or left the active status after the gateway received
//   the reading; not received in the block's future; device signature; then the device's sequence
//   window (sequence-window.ts): a new sequence is recorded (appended to the device's log), the
//   same reading again is a duplicate (no-op), another reading under a recorded sequence is
//   equivocation: proof of a cloned or stolen key, so the device is quarantined with the evidence.
import { verifyBatch } from "../../shared/attestation.ts";
import { toHex, toLatin1 } from "../../shared/byte-strings.ts";
import { ReadingError } from "../../shared/errors.ts";
import { verifyReading, type SignedReading } from "../../shared/reading.ts";
import { decodedReadings } from "../../shared/decoded-readings.ts";
import { verifiedReadings } from "../../shared/verified-readings.ts";
import type { DecodedTx, TxBody } from "../../shared/tx.ts";
import type { IndexedReading, TxContext } from "./context.ts";
import { logAppend, readingLeafData, type LogNode } from "./device-log.ts";
import { reject } from "./errors.ts";
import { evidencePerDeviceMax } from "./options.ts";
import { readingOutcome, type ReadingOutcome } from "./reading-outcome.ts";
import { equivocationProven } from "./quarantine.ts";
import { deviceStatus, type Device } from "./records.ts";
import { windowRecord, windowVerdict } from "./sequence-window.ts";
import { runReadingTriggers, type TriggeringReading } from "../contracts/apply-contracts.ts";
import { recordFirmwareReport } from "./apply-firmware.ts";
import type { ContractRun } from "../contracts/records.ts";
import type { State } from "./state.ts";

type BatchBody = Extract<TxBody, { kind: "readingBatch" }>;

/** Evidence kind of an equivocation the chain saw itself: detail [recorded digest, second reading]. */
export const evidenceKindBatchEquivocation = 3;

export interface CheckedReading {
  outcome: ReadingOutcome;
  digest: Uint8Array;
  receivedAtMs: number;
  /** Set when the reading decoded. */
  reading?: SignedReading;
  /** For equivocation: the digest of the reading already recorded under this sequence. */
  recordedDigest?: Uint8Array;
  /** The reading's device as the batch leaves it (an entry of CheckedBatch.devices), once looked up. */
  entry?: { id: Uint8Array; device: Device };
}

export interface CheckedBatch {
  readings: CheckedReading[];
  /** Devices touched, by hex id, with their records as they will be after the batch. */
  devices: Map<string, { id: Uint8Array; device: Device }>;
}

function batchChecks(state: State, tx: DecodedTx, body: BatchBody, ctx: TxContext, digests: Uint8Array[]): void {
  const n = body.readings.length;
  if (n === 0 || n > ctx.params.batchReadingsMax) reject("BATCH_TOO_LARGE", `batch has ${n} readings; the chain accepts 1 to ${ctx.params.batchReadingsMax} per batch`);
  if (!state.candidate(tx.authorId)) reject("GATEWAY_NOT_REGISTERED", `gateway ${toHex(tx.authorId)} is not a registered gateway; register it as a candidate first`);
  if (Buffer.compare(body.attestation.gatewayId, tx.authorId) !== 0 || body.attestation.count !== n) {
    reject("BATCH_BAD_ATTESTATION", "attestation must name the transaction's author and count exactly the readings carried");
  }
  const leaves = body.readings.map((r, i) => ({ digest: digests[i], receivedAtMs: r.receivedAtMs }));
  if (!ctx.signaturesVerified(tx) && !verifyBatch(body.attestation, ctx.keys.get(tx.author), leaves)) {
    reject("BATCH_BAD_ATTESTATION", "the gateway's signature does not cover these readings (Merkle root or signature mismatch)");
  }
}

/** A device of the batch being checked, with the sequences this batch recorded for it so far. */
interface BatchDevice {
  id: Uint8Array;
  device: Device;
  recorded?: Map<number, Uint8Array>;
}

/** A checked reading of a known device (a plain function: a closure per reading showed in the profile). */
function checked(outcome: ReadingOutcome, digest: Uint8Array, receivedAtMs: number, reading: SignedReading, entry: BatchDevice): CheckedReading {
  return { outcome, digest, receivedAtMs, reading, entry };
}

/** Checks a batch against `state` and gives each reading its outcome; applies nothing. */
export function checkReadingBatch(state: State, tx: DecodedTx, body: BatchBody, ctx: TxContext): CheckedBatch {
  // Decoded and digested once per process (shared/decoded-readings.ts): gossip admission and a
  // proposal's pre-verification met these bytes already.
  const decoded = decodeBatch(state, body);
  batchChecks(state, tx, body, ctx, decoded.map((d) => d.digest));
  // By device id as latin1: a batch holds many readings of few devices. Per reading below nothing
  // is built that an honest batch does not use (bench:chain-cpu's validate profile).
  const devices = new Map<string, BatchDevice>();
  const horizonMs = ctx.timeMs + ctx.params.blockTimeDriftMaxMs;
  const readings = body.readings.map(({ receivedAtMs }, i): CheckedReading => {
    const { digest, reading, error } = decoded[i];
    if (!reading) {
      // A well-formed compact reading whose short kid no device holds: as unknown as an unknown id.
      const unknownKid = error instanceof ReadingError && error.code === "COSE_KID_UNKNOWN";
      return { outcome: unknownKid ? readingOutcome.deviceUnknown : readingOutcome.malformed, digest, receivedAtMs };
    }
    const key = toLatin1(reading.deviceId);
    let entry = devices.get(key);
    if (!entry) {
      const device = state.device(reading.deviceId);
      if (!device) return { outcome: readingOutcome.deviceUnknown, digest, receivedAtMs, reading };
      entry = { id: reading.deviceId, device };
      devices.set(key, entry);
    }
    const { device } = entry;
    if (device.status !== deviceStatus.active && receivedAtMs >= device.statusSinceMs) return checked(readingOutcome.deviceNotActive, digest, receivedAtMs, reading, entry);
    if (receivedAtMs > horizonMs) return checked(readingOutcome.fromFuture, digest, receivedAtMs, reading, entry);
    // Never skipped on the transaction's word (ctx.signaturesVerified): the mempool may have admitted
    // it while this reading's device was unknown, inactive or its reception in the future, so its
    // signature was not checked then. A reading this process verified is a look-up here.
    if (!deviceSignatureValid(reading, digest, device.publicKey, ctx)) return checked(readingOutcome.badSignature, digest, receivedAtMs, reading, entry);
    const w = { last: device.lastSequence, window: device.window };
    const verdict = windowVerdict(w, reading.sequence);
    if (verdict === "stale") return checked(readingOutcome.stale, digest, receivedAtMs, reading, entry);
    // The window is the device's own (copied for this batch): a sequence this batch recorded reads "recorded" too.
    if (verdict === "recorded") {
      const prior = entry.recorded?.get(reading.sequence) ?? ctx.recorded.digest(reading.deviceId, reading.sequence);
      if (prior && Buffer.compare(prior, digest) === 0) return checked(readingOutcome.duplicate, digest, receivedAtMs, reading, entry);
      return { ...checked(readingOutcome.equivocation, digest, receivedAtMs, reading, entry), recordedDigest: prior };
    }
    (entry.recorded ??= new Map()).set(reading.sequence, digest);
    windowRecord(w, reading.sequence);
    device.lastSequence = w.last;
    return checked(readingOutcome.recorded, digest, receivedAtMs, reading, entry);
  });
  return { readings, devices };
}

/**
 * What mempool admission checks of a batch: the batch as a whole (throws TxRejected), and each
 * reading's device signature where execution will need it (decodes, enrolled, active or left active
 * after reception, not from the block's future), verified now and remembered so that execution
 * finds it in the process's set. Readings get no outcome here: the sequence window and duplicates
 * are execution's alone (checkReadingBatch), since a block decides them against the state it
 * executes on; admission running them too cost bench:net's validators about 4% of their main
 * thread at half load for outcomes nothing read.
 */
export function admitReadingBatch(state: State, tx: DecodedTx, body: BatchBody, ctx: TxContext): void {
  const decoded = decodeBatch(state, body);
  batchChecks(state, tx, body, ctx, decoded.map((d) => d.digest));
  const keys = new Map<string, Readonly<Device> | null>();
  const horizonMs = ctx.timeMs + ctx.params.blockTimeDriftMaxMs;
  body.readings.forEach(({ receivedAtMs }, i) => {
    const { reading, digest } = decoded[i];
    if (!reading) return; // malformed, or a short kid no device holds: its outcome says so at execution
    const id = toLatin1(reading.deviceId);
    let device = keys.get(id);
    if (device === undefined) keys.set(id, (device = state.deviceView(reading.deviceId) ?? null));
    if (!device || (device.status !== deviceStatus.active && receivedAtMs >= device.statusSinceMs) || receivedAtMs > horizonMs) return;
    deviceSignatureValid(reading, digest, device.publicKey, ctx);
  });
}

/**
 * Each reading of a batch decoded and digested (one look-up in shared/decoded-readings.ts), or only
 * digested with the reason it does not decode.
 */
function decodeBatch(state: State, body: BatchBody): { digest: Uint8Array; reading?: SignedReading; error?: unknown }[] {
  const resolveKid = (kid: Uint8Array) => state.deviceIdOfKid(kid);
  return body.readings.map(({ bytes }) => {
    try {
      return decodedReadings.decode(bytes, resolveKid);
    } catch (error) {
      return { digest: decodedReadings.digest(bytes), error };
    }
  });
}

/** The device's signature, verified once per process (shared/verified-readings.ts holds what verified). */
function deviceSignatureValid(reading: SignedReading, digest: Uint8Array, publicKey: Uint8Array, ctx: TxContext): boolean {
  if (verifiedReadings.has(digest, publicKey)) return true;
  if (!verifyReading(reading, ctx.keys.get(publicKey))) return false;
  verifiedReadings.add(digest, publicKey);
  return true;
}

/**
 * Applies a batch: recorded readings appended to their devices' logs, equivocating devices
 * quarantined with the evidence; then the contracts subscribed to the recorded readings run, in
 * batch order (gateway/contracts/apply-contracts.ts). Returns the per-reading outcomes and the
 * contract runs for the block's results, and the gas the contracts paid.
 */
export function applyReadingBatch(state: State, tx: DecodedTx, body: BatchBody, ctx: TxContext): { readings: IndexedReading[]; logNodes: LogNode[]; outcomes: ReadingOutcome[]; runs: ContractRun[]; gasFees: bigint } {
  const checked = checkReadingBatch(state, tx, body, ctx);
  const readings: IndexedReading[] = [];
  const logNodes: LogNode[] = [];
  const triggering: TriggeringReading[] = [];
  checked.readings.forEach((r, position) => {
    const entry = r.entry;
    if (!r.reading || !entry) return;
    const { device } = entry;
    if (r.outcome === readingOutcome.recorded) {
      const record = { sequence: r.reading.sequence, digest: r.digest, height: ctx.height, gatewayId: tx.authorId, receivedAtMs: r.receivedAtMs };
      const logIndex = device.readings;
      const appended = logAppend(r.reading.deviceId, device.logFrontier, logIndex, readingLeafData(record));
      device.logFrontier = appended.frontier;
      device.readings += 1;
      for (const n of appended.nodes) logNodes.push(n);
      readings.push({ deviceId: r.reading.deviceId, sequence: r.reading.sequence, digest: r.digest, receivedAtMs: r.receivedAtMs, position, logIndex, records: r.reading.records });
      recordFirmwareReport(state, r.reading.deviceId, r.reading.sequence, r.reading.records, ctx.height);
      triggering.push({ position, view: { deviceId: r.reading.deviceId, ownerId: device.owner, sequence: r.reading.sequence, receivedAtMs: r.receivedAtMs, records: r.reading.records, metadata: device.metadata } });
    } else if (r.outcome === readingOutcome.equivocation) {
      quarantineForEquivocation(state, tx, entry.id, device, r.recordedDigest, body.readings[position].bytes, ctx);
    }
  });
  for (const { id, device } of checked.devices.values()) state.setDevice(id, device);
  for (const r of readings) ctx.recorded.note(r.deviceId, r.sequence, r.digest);
  const { runs, gasFees } = runReadingTriggers(state, ctx, triggering);
  return { readings, logNodes, outcomes: checked.readings.map((r) => r.outcome), runs, gasFees };
}

function quarantineForEquivocation(state: State, tx: DecodedTx, id: Uint8Array, device: Device, prior: Uint8Array | undefined, bytes: Uint8Array, ctx: TxContext): void {
  if (device.status === deviceStatus.active) {
    device.status = deviceStatus.quarantined;
    equivocationProven(state, id);
    device.statusSinceMs = ctx.timeMs;
  }
  if (device.evidence < evidencePerDeviceMax) {
    state.setEvidence(id, device.evidence, { kind: evidenceKindBatchEquivocation, reporter: tx.authorId, height: ctx.height, detail: [prior ?? new Uint8Array(32), bytes] });
  }
  device.evidence += 1;
}
