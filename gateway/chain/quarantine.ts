// Quarantine by gateways' reports (clause 9.3): a gateway that sees a device misbehave (forged
// signatures, replays, floods) reports it on chain (tx 9, "observed"). When distinct validators of the
// set in force reported the device within the last `reportWindowBlocks` blocks, at least f + 1 of them
// (n = 3f + 1: one honest gateway at least saw it), the device is quarantined chain-wide: every gateway
// applies the same block and refuses its readings from then on (ingest 4.03). Its owner can lift such
// a quarantine (tx 17); one for equivocation (apply-devices.ts, apply-readings.ts) is not liftable:
// two readings under one sequence number prove the key itself is in other hands.
//
// State: `device-reports/<id>` = [[reporter id, height]...] (the latest report of each reporter,
// ascending by id) and the height reports quarantined the device at, or null; absent when there is
// nothing to remember, so chains without reports keep their state roots.
import { decode, encode, type CborValue } from "../../shared/cbor.ts";
import { weakQuorumSize } from "../../shared/consensus-certificate.ts";
import { toHex } from "../../shared/ed25519.ts";
import type { DecodedTx, TxBody } from "../../shared/tx.ts";
import type { TxContext } from "./context.ts";
import { invariant, reject } from "./errors.ts";
import { stateKey } from "./keys.ts";
import { deviceStatus, type Device } from "./records.ts";
import type { State } from "./state.ts";

/** Reports older than this many blocks no longer count. */
export const reportWindowBlocks = 600;

export interface DeviceReports {
  reports: { reporter: Uint8Array; height: number }[];
  /** Height at which reports quarantined the device; null when they have not (or equivocation since). */
  quarantinedAt: number | null;
}

const limits = { depthMax: 4, itemsMax: 10_000, bytesMax: 1 << 16 };

export function deviceReports(state: State, deviceId: Uint8Array): DeviceReports | undefined {
  const v = state.overlay.get(stateKey.deviceReports(deviceId));
  if (v === undefined) return undefined;
  const r = decode(v, limits);
  invariant(Array.isArray(r) && r.length === 2 && Array.isArray(r[0]), "device reports record is [reports, quarantinedAt]");
  return {
    reports: (r[0] as CborValue[]).map((e) => {
      invariant(Array.isArray(e) && e[0] instanceof Uint8Array && typeof e[1] === "number", "a device report is [reporter, height]");
      return { reporter: e[0], height: e[1] };
    }),
    quarantinedAt: r[1] === null ? null : (r[1] as number),
  };
}

function setDeviceReports(state: State, deviceId: Uint8Array, r: DeviceReports | null): void {
  const empty = !r || (r.reports.length === 0 && r.quarantinedAt === null);
  state.overlay.set(stateKey.deviceReports(deviceId), empty ? null : encode([r.reports.map((e) => [e.reporter, e.height]), r.quarantinedAt]));
}

/**
 * A validator's report of what it observed (apply-devices.ts applyReport): remembered, and the device
 * quarantined once enough distinct validators reported it within the window.
 */
export function recordObservation(state: State, tx: DecodedTx, deviceId: Uint8Array, device: Device, ctx: TxContext): void {
  const members = new Set(ctx.validators.validators.map((v) => toHex(v.id)));
  const prior = deviceReports(state, deviceId) ?? { reports: [], quarantinedAt: null };
  const reports = prior.reports
    .filter((e) => Buffer.compare(e.reporter, tx.authorId) !== 0 && ctx.height - e.height < reportWindowBlocks)
    .concat([{ reporter: tx.authorId, height: ctx.height }])
    .sort((a, b) => Buffer.compare(a.reporter, b.reporter));
  const next: DeviceReports = { reports, quarantinedAt: prior.quarantinedAt };
  const reporters = reports.filter((e) => members.has(toHex(e.reporter))).length;
  if (device.status === deviceStatus.active && reporters >= weakQuorumSize(members.size)) {
    device.status = deviceStatus.quarantined;
    device.statusSinceMs = ctx.timeMs;
    next.quarantinedAt = ctx.height;
  }
  setDeviceReports(state, deviceId, next);
}

/** Equivocation quarantines for good: a quarantine by reports becomes one the owner cannot lift. */
export function equivocationProven(state: State, deviceId: Uint8Array): void {
  const r = deviceReports(state, deviceId);
  if (r && r.quarantinedAt !== null) setDeviceReports(state, deviceId, { ...r, quarantinedAt: null });
}

/** How the device came to be quarantined, for the API and ingest's refusal: reports, or equivocation. */
export function quarantineCause(state: State, deviceId: Uint8Array): "reports" | "equivocation" {
  return deviceReports(state, deviceId)?.quarantinedAt != null ? "reports" : "equivocation";
}

export function applyLiftQuarantine(state: State, tx: DecodedTx, body: Extract<TxBody, { kind: "liftQuarantine" }>, ctx: TxContext): void {
  const d = state.device(body.deviceId);
  if (!d) reject("DEVICE_UNKNOWN", `device ${toHex(body.deviceId)} is not enrolled`);
  if (Buffer.compare(d.owner, tx.authorId) !== 0) reject("DEVICE_NOT_OWNER", `only the owner ${toHex(d.owner)} may lift device ${toHex(body.deviceId)}'s quarantine`);
  if (d.status !== deviceStatus.quarantined) reject("DEVICE_NOT_QUARANTINED", `device ${toHex(body.deviceId)} is not quarantined`);
  if (quarantineCause(state, body.deviceId) !== "reports") {
    reject("QUARANTINE_NOT_LIFTABLE", `device ${toHex(body.deviceId)} signed two readings with one sequence number: its key is compromised; enroll the device again with a new key`);
  }
  d.status = deviceStatus.active;
  d.statusSinceMs = ctx.timeMs;
  state.setDevice(body.deviceId, d);
  setDeviceReports(state, body.deviceId, null); // a fresh start: old reports do not count again
}
