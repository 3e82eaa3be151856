// The reading batch: a gateway's co-signed batch of device readings (shared/attestation.ts) and
// the chain's main traffic. One check serves the mempool and the state machine:
//
//   1. size: 1..batchReadingsMax readings;
//   2. the author is a registered gateway (delegate candidate) and the attestation names it;
//   3. each reading decodes (shared/reading.ts), its device is enrolled and active, its sequence
//      is strictly above the device's last on chain (and above earlier ones in this batch or, in
//      the mempool, in pending batches), and it was not received in the block's future;
//   4. signatures, unless this node already verified them: the gateway's over the Merkle root of
//      (digest, receivedAtMs) leaves, then each device's COSE_Sign1.
// The batch applies whole or not at all: a bad reading makes the gateway's whole batch invalid,
// since the gateway signed for all of it.
import { verifyBatch } from "../../shared/attestation.ts";
import { toHex } from "../../shared/ed25519.ts";
import { decodeReading, readingDigest, verifyReading, type SignedReading } from "../../shared/reading.ts";
import type { DecodedTx, TxBody } from "../../shared/tx.ts";
import type { IndexedReading, TxContext } from "./context.ts";
import { reject } from "./errors.ts";
import { logAppend, readingLeafData, type LogNode } from "./device-log.ts";
import { deviceStatus, type Device } from "./records.ts";
import type { State } from "./state.ts";

type BatchBody = Extract<TxBody, { kind: "readingBatch" }>;

export interface CheckedReading {
  reading: SignedReading;
  digest: Uint8Array;
  receivedAtMs: number;
}

export interface CheckedBatch {
  readings: CheckedReading[];
  /** Devices touched, by hex id, with their records as they will be after the batch. */
  devices: Map<string, { id: Uint8Array; device: Device }>;
}

export interface BatchCheckOptions {
  /** The mempool's highest pending sequence per device (hex id), above the chain's. */
  pendingSequence?: (deviceHex: string) => number | undefined;
}

export function checkReadingBatch(state: State, tx: DecodedTx, body: BatchBody, ctx: TxContext, options: BatchCheckOptions = {}): CheckedBatch {
  const n = body.readings.length;
  if (n > ctx.params.batchReadingsMax) reject("BATCH_TOO_LARGE", `batch has ${n} readings; the chain accepts at most ${ctx.params.batchReadingsMax} per batch`);
  const gateway = state.candidate(tx.authorId);
  if (!gateway) reject("GATEWAY_NOT_REGISTERED", `gateway ${toHex(tx.authorId)} is not a registered gateway; register it as a candidate first`);
  if (Buffer.compare(body.attestation.gatewayId, tx.authorId) !== 0 || body.attestation.count !== n) {
    reject("BATCH_BAD_ATTESTATION", "attestation must name the transaction's author and count exactly the readings carried");
  }
  const devices = new Map<string, { id: Uint8Array; device: Device }>();
  const readings: CheckedReading[] = [];
  const horizonMs = ctx.timeMs + ctx.params.blockTimeDriftMaxMs;
  for (let i = 0; i < n; i++) {
    const { bytes, receivedAtMs } = body.readings[i];
    let reading: SignedReading;
    try {
      reading = decodeReading(bytes);
    } catch (e) {
      return reject("READING_MALFORMED", `reading ${i}: ${(e as Error).message}`, i);
    }
    const hex = toHex(reading.deviceId);
    let entry = devices.get(hex);
    if (!entry) {
      const device = state.device(reading.deviceId);
      if (!device) reject("DEVICE_UNKNOWN", `reading ${i}: device ${hex} is not enrolled; its owner must enroll it first`, i);
      entry = { id: reading.deviceId, device };
      devices.set(hex, entry);
      const pending = options.pendingSequence?.(hex);
      if (pending !== undefined && pending > device.lastSequence) device.lastSequence = pending;
    }
    if (entry.device.status !== deviceStatus.active) reject("DEVICE_NOT_ACTIVE", `reading ${i}: device ${hex} is revoked or quarantined`, i);
    if (reading.sequence <= entry.device.lastSequence) {
      reject("READING_SEQUENCE_REPLAY", `reading ${i}: device ${hex} sequence ${reading.sequence} is not above ${entry.device.lastSequence}, already on chain or pending`, i);
    }
    if (receivedAtMs > horizonMs) reject("READING_FROM_FUTURE", `reading ${i}: received at ${receivedAtMs} ms, after the block time ${ctx.timeMs} ms plus drift`, i);
    entry.device.lastSequence = reading.sequence;
    readings.push({ reading, digest: readingDigest(bytes), receivedAtMs });
  }
  if (!ctx.signaturesVerified(tx)) verifyBatchSignatures(tx, body, readings, devices, ctx);
  return { readings, devices };
}

function verifyBatchSignatures(tx: DecodedTx, body: BatchBody, readings: CheckedReading[], devices: CheckedBatch["devices"], ctx: TxContext): void {
  if (!verifyBatch(body.attestation, ctx.keys.get(tx.author), readings)) {
    reject("BATCH_BAD_ATTESTATION", "the gateway's signature does not cover these readings (Merkle root or signature mismatch)");
  }
  readings.forEach((r, i) => {
    const { device } = devices.get(toHex(r.reading.deviceId))!;
    if (!verifyReading(r.reading, ctx.keys.get(device.publicKey))) reject("READING_BAD_SIGNATURE", `reading ${i}: the device's signature does not verify`, i);
  });
}

/** Applies a checked batch: each reading appended to its device's log, last sequences advanced. */
export function applyReadingBatch(state: State, tx: DecodedTx, body: BatchBody, ctx: TxContext): { readings: IndexedReading[]; logNodes: LogNode[] } {
  const checked = checkReadingBatch(state, tx, body, ctx);
  const readings: IndexedReading[] = [];
  const logNodes: LogNode[] = [];
  checked.readings.forEach((r, position) => {
    const { device } = checked.devices.get(toHex(r.reading.deviceId))!;
    const record = { sequence: r.reading.sequence, digest: r.digest, height: ctx.height, gatewayId: tx.authorId, receivedAtMs: r.receivedAtMs };
    const appended = logAppend(r.reading.deviceId, device.logFrontier, device.readings, readingLeafData(record));
    device.logFrontier = appended.frontier;
    device.readings += 1;
    logNodes.push(...appended.nodes);
    readings.push({ deviceId: r.reading.deviceId, sequence: r.reading.sequence, digest: r.digest, receivedAtMs: r.receivedAtMs, position });
  });
  for (const { id, device } of checked.devices.values()) state.setDevice(id, device);
  return { readings, logNodes };
}
