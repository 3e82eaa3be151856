// Proofs about single readings against a block header's state root, in two steps: the device's
// record in the state tree (smt-proof.ts), then the reading in the device's log (device-log.ts,
// RFC 9162 §2.1.3 audit path checked by shared/merkle.ts verifyInclusion).
//
//   present: the reading's log leaf is at `index` in the device's log of `size` leaves.
//   absent:  the device is not enrolled (state non-inclusion); or the device record's sequence
//            window (sequence-window.ts) does not hold the sequence: above the highest, or its bit
//            clear. A sequence below the window cannot be proven absent (the log is in arrival
//            order, not sequence order): the verifier answers false.
import { decode } from "../../shared/cbor.ts";
import { leafHash, verifyInclusion } from "../../shared/merkle.ts";
import type { BlockHeader } from "./block.ts";
import type { Chain } from "./chain.ts";
import { logAuditPath, logRoot, readingLeafData } from "./device-log.ts";
import { stateKey } from "./keys.ts";
import { verifyStateProof } from "./proof.ts";
import { deviceCodec, type Device, type ReadingRecord } from "./records.ts";
import { windowVerdict } from "./sequence-window.ts";
import type { SmtProof } from "./smt-proof.ts";

export interface LogEntryProof {
  reading: ReadingRecord;
  index: number;
  path: Uint8Array[];
}

export interface ReadingProof {
  height: number;
  /** The device's state record (undefined: not enrolled) and its proof against the state root. */
  device: { value: Uint8Array | undefined; proof: SmtProof };
  /** For presence: the reading. For absence: none (the device record is the proof). */
  entries: LogEntryProof[];
}

function entryProof(chain: Chain, deviceId: Uint8Array, row: { sequence: number; digest: Uint8Array; height: number; gatewayId: Uint8Array; receivedAtMs: number; logIndex: number }, size: number): LogEntryProof {
  const reading = { sequence: row.sequence, digest: row.digest, height: row.height, gatewayId: row.gatewayId, receivedAtMs: row.receivedAtMs };
  return { reading, index: row.logIndex, path: logAuditPath(chain.store, deviceId, row.logIndex, size) };
}

/** Proof that `sequence` of the device is on chain (entries: [it]) or not (entries: []). */
export function proveReading(chain: Chain, deviceId: Uint8Array, sequence: number): ReadingProof {
  const { height, value, proof } = chain.prove(stateKey.device(deviceId));
  if (!value) return { height, device: { value, proof }, entries: [] };
  const device = deviceCodec.from(decode(value));
  const size = device.readings;
  const found = chain.store.indexes.reading(deviceId, sequence);
  if (found) return { height, device: { value, proof }, entries: [entryProof(chain, deviceId, found, size)] };
  return { height, device: { value, proof }, entries: [] };
}

function entryVerifies(device: Device, e: LogEntryProof): boolean {
  return verifyInclusion(leafHash(readingLeafData(e.reading)), e.index, device.readings, e.path, logRoot(device.logFrontier));
}

function verifiedDevice(header: Pick<BlockHeader, "stateRoot">, deviceId: Uint8Array, p: ReadingProof): Device | null | false {
  if (!verifyStateProof(header, stateKey.device(deviceId), p.device.value, p.device.proof)) return false;
  if (!p.device.value) return null;
  try {
    return deviceCodec.from(decode(p.device.value));
  } catch {
    return false;
  }
}

/** True if the proof shows reading `sequence` of the device on chain; returns it. */
export function verifyReadingPresent(header: Pick<BlockHeader, "stateRoot">, deviceId: Uint8Array, sequence: number, p: ReadingProof): ReadingRecord | undefined {
  const device = verifiedDevice(header, deviceId, p);
  if (!device || p.entries.length !== 1) return undefined;
  const e = p.entries[0];
  return e.reading.sequence === sequence && entryVerifies(device, e) ? e.reading : undefined;
}

/** True if the proof shows that reading `sequence` of the device is not on chain. */
export function verifyReadingAbsent(header: Pick<BlockHeader, "stateRoot">, deviceId: Uint8Array, sequence: number, p: ReadingProof): boolean {
  const device = verifiedDevice(header, deviceId, p);
  if (device === false || p.entries.length !== 0) return false;
  return device === null || windowVerdict({ last: device.lastSequence, window: device.window }, sequence) === "new";
}
