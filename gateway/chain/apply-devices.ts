// Device lifecycle on chain (clauses 8.1, 9.3): an owner enrolls a device by its public key (its
// id is derived from the key, so nobody can enroll a key under another id), revokes it, and any
// gateway can put evidence of misbehaviour on record. Equivocation (two different readings signed
// with one sequence number) is proof of a hijacked or cloned key: the device is quarantined
// chain-wide and every gateway refuses its readings from then on.
import { deviceIdFromPublicKey, toHex } from "../../shared/ed25519.ts";
import { decodeReading, verifyReading, type SignedReading } from "../../shared/reading.ts";
import { shortKidBytes, shortKidNumberMax } from "../../shared/short-kid.ts";
import type { DecodedTx, TxBody } from "../../shared/tx.ts";
import type { TxContext } from "./context.ts";
import { reject } from "./errors.ts";
import { evidencePerDeviceMax } from "./options.ts";
import { emptyWindow } from "./sequence-window.ts";
import { equivocationProven, recordObservation } from "./quarantine.ts";
import { deviceStatus, type Device } from "./records.ts";
import type { State } from "./state.ts";

type Body<K extends TxBody["kind"]> = Extract<TxBody, { kind: K }>;

export function applyEnroll(state: State, tx: DecodedTx, body: Body<"enrollDevice">, ctx: TxContext): void {
  const id = deviceIdFromPublicKey(body.devicePublicKey);
  if (state.device(id)) reject("DEVICE_EXISTS", `device ${toHex(id)} is already enrolled; a revoked device needs a new key`);
  state.setDevice(id, {
    owner: tx.authorId,
    publicKey: body.devicePublicKey,
    status: deviceStatus.active,
    lastSequence: -1,
    metadata: body.metadata,
    ttlDays: body.ttlDays,
    enrolledHeight: ctx.height,
    readings: 0,
    evidence: 0,
    logFrontier: [],
    window: emptyWindow(),
    statusSinceMs: 0,
    shortKid: assignShortKid(state, id),
  });
}

/**
 * The device's short kid (shared/short-kid.ts): the next number of the chain's counter, with an entry
 * kid → device id so a compact reading's device is derivable, and provable, from the state root.
 */
function assignShortKid(state: State, deviceId: Uint8Array): Uint8Array {
  const n = state.shortKidsAssigned();
  if (n > shortKidNumberMax) reject("SHORT_KIDS_EXHAUSTED", `all ${shortKidNumberMax + 1} short kids are assigned`);
  const kid = shortKidBytes(n);
  state.setDeviceIdOfKid(kid, deviceId);
  state.setShortKidsAssigned(n + 1);
  return kid;
}

function ownedDevice(state: State, tx: DecodedTx, deviceId: Uint8Array): Device {
  const d = state.device(deviceId);
  if (!d) reject("DEVICE_UNKNOWN", `device ${toHex(deviceId)} is not enrolled`);
  if (Buffer.compare(d.owner, tx.authorId) !== 0) reject("DEVICE_NOT_OWNER", `only the owner ${toHex(d.owner)} may change device ${toHex(deviceId)}`);
  return d;
}

export function applyRevoke(state: State, tx: DecodedTx, body: Body<"revokeDevice">, ctx: TxContext): void {
  const d = ownedDevice(state, tx, body.deviceId);
  if (d.status === deviceStatus.revoked) reject("DEVICE_NOT_ACTIVE", `device ${toHex(body.deviceId)} is already revoked`);
  // Readings its gateways received before this block still land (apply-readings.ts).
  if (d.status === deviceStatus.active) d.statusSinceMs = ctx.timeMs;
  d.status = deviceStatus.revoked;
  state.setDevice(body.deviceId, d);
}

function decodeEvidence(state: State, bytes: Uint8Array, which: string): SignedReading {
  try {
    return decodeReading(bytes, (kid) => state.deviceIdOfKid(kid));
  } catch (e) {
    return reject("EVIDENCE_INVALID", `${which} reading does not decode: ${(e as Error).message}`);
  }
}

/** Two distinct readings, same device and sequence, both validly signed by the device's key. */
function checkEquivocation(state: State, device: Device, deviceId: Uint8Array, body: Extract<Body<"reportDevice">, { evidence: "equivocation" }>, ctx: TxContext): void {
  const a = decodeEvidence(state, body.first, "first");
  const b = decodeEvidence(state, body.second, "second");
  if (Buffer.compare(a.deviceId, deviceId) !== 0 || Buffer.compare(b.deviceId, deviceId) !== 0) reject("EVIDENCE_INVALID", "both readings must carry the reported device's id");
  if (a.sequence !== b.sequence) reject("EVIDENCE_INVALID", "equivocation needs two readings with the same sequence number");
  if (Buffer.compare(a.bytes, b.bytes) === 0) reject("EVIDENCE_INVALID", "the two readings are identical; that is a replay, not equivocation");
  const key = ctx.keys.get(device.publicKey);
  if (!verifyReading(a, key) || !verifyReading(b, key)) reject("EVIDENCE_INVALID", "both readings must verify under the device's key");
}

/** A datagram attached to an observation must at least be a reading naming this device (its signature may be forged: that is what was seen). */
function checkSample(state: State, bytes: Uint8Array, deviceId: Uint8Array): void {
  const r = decodeEvidence(state, bytes, "an observed");
  if (Buffer.compare(r.deviceId, deviceId) !== 0) reject("EVIDENCE_INVALID", "an observed datagram must carry the reported device's id");
}

export function applyReport(state: State, tx: DecodedTx, body: Body<"reportDevice">, ctx: TxContext): void {
  const device = state.device(body.deviceId);
  if (!device) reject("DEVICE_UNKNOWN", `device ${toHex(body.deviceId)} is not enrolled`);
  if (body.evidence === "equivocation") {
    checkEquivocation(state, device, body.deviceId, body, ctx);
    if (device.status === deviceStatus.active) device.statusSinceMs = ctx.timeMs;
    device.status = deviceStatus.quarantined;
    equivocationProven(state, body.deviceId);
  } else if (!state.candidate(tx.authorId)) {
    reject("GATEWAY_NOT_REGISTERED", "only a registered gateway may report what it observed of a device");
  } else {
    for (const d of body.samples ?? []) checkSample(state, d, body.deviceId);
    recordObservation(state, tx, body.deviceId, device, ctx);
  }
  // Evidence records are bounded per device; past the bound only the count grows.
  if (device.evidence < evidencePerDeviceMax) {
    const detail = body.evidence === "equivocation" ? [body.first, body.second] : [body.badSignatures, body.replays, body.floods, ...(body.samples?.length ? [body.samples] : [])];
    state.setEvidence(body.deviceId, device.evidence, { kind: body.evidence === "equivocation" ? 1 : 2, reporter: tx.authorId, height: ctx.height, detail });
  }
  device.evidence += 1;
  state.setDevice(body.deviceId, device);
}
