// Firmware over the air, the chain's part (issue 11, gateway/chain/README.md "Firmware releases and rollouts"):
//
//   publishRelease (14)  anyone may publish a manifest signed by one of the genesis's firmware publisher
//                        keys (`firmwarePublishers`, genesis-only); the release is named by its image id.
//   startRollout (15)    only the owner of every target device may roll a release out to them; the chain
//                        checks each target is enrolled, active, owned by the author and matches the
//                        selector (ids / the author as owner / a metadata key=value). Targets are fixed
//                        when the rollout starts: devices enrolled later need another rollout.
//   stopRollout (16)     its author ends the offers; its progress stays on record.
//   firmware reports     readings recorded by a batch that carry SenML "fw" (running version), and
//                        "fw.fail" + "fw.why" (a failed attempt) update the device's firmware record:
//                        the version only from the highest sequence seen (readings land out of order),
//                        each failed version once (devices repeat it after every boot), so applying the
//                        same report again changes nothing.
import { toHex } from "../../shared/ed25519.ts";
import { FirmwareError } from "../../shared/errors.ts";
import { decodeManifest, firmwareVersionMax, verifyManifest } from "../../shared/firmware-manifest.ts";
import type { SenmlRecord } from "../../shared/senml.ts";
import type { DecodedTx, RolloutSelector, TxBody } from "../../shared/tx.ts";
import type { TxContext } from "./context.ts";
import { reject } from "./errors.ts";
import { deviceFirmwareCodec, type DeviceFirmware } from "./firmware-records.ts";
import { FirmwareState } from "./firmware-state.ts";
import { deviceStatus, type Device } from "./records.ts";
import type { State } from "./state.ts";

type Body<K extends TxBody["kind"]> = Extract<TxBody, { kind: K }>;

/** Releases ever published (the `firmware/releases` list stays one bounded record). */
export const releasesMax = 4096;
/** Rollouts running at once: gateways consult every running one for each device they serve. */
export const rolloutsRunningMax = 64;
/** Failed attempts kept per device (one per version); older ones drop off the front. */
export const firmwareFailuresMax = 16;

/** SenML record names of the version reports (docs/firmware-update.md "Version reports"). */
export const firmwareRecordNames = { version: "fw", failedVersion: "fw.fail", reason: "fw.why" } as const;

export function applyPublishRelease(state: State, tx: DecodedTx, body: Body<"publishRelease">, ctx: TxContext): void {
  const fw = new FirmwareState(state);
  let signed;
  try {
    signed = decodeManifest(body.manifest);
  } catch (e) {
    return reject("FIRMWARE_MANIFEST", (e as Error).message);
  }
  const publishers = fw.publishers();
  if (publishers.length === 0) reject("FIRMWARE_SIGNATURE", "this chain's genesis names no firmware publisher keys (firmwarePublishers), so it takes no releases");
  try {
    verifyManifest(signed, publishers);
  } catch (e) {
    if (e instanceof FirmwareError) reject("FIRMWARE_SIGNATURE", `${e.message} (the genesis's firmwarePublishers)`);
    throw e;
  }
  const imageId = Buffer.from(signed.imageId, "hex");
  if (fw.release(imageId)) reject("FIRMWARE_RELEASE_EXISTS", `release ${signed.imageId} is already published`);
  const ids = fw.releaseIds();
  if (ids.length >= releasesMax) reject("FIRMWARE_RELEASES_FULL", `the chain holds ${releasesMax} releases, its limit`);
  fw.setRelease(imageId, { manifest: body.manifest, location: body.location, author: tx.authorId, height: ctx.height, version: signed.manifest.version });
  fw.setReleaseIds([...ids, new Uint8Array(imageId)]);
}

function matchesSelector(device: Device, selector: RolloutSelector): boolean {
  if (selector.kind === "ids") return true;
  if (selector.kind === "owner") return Buffer.compare(device.owner, selector.ownerId) === 0;
  return device.metadata.get(selector.key) === selector.value;
}

export function applyStartRollout(state: State, tx: DecodedTx, body: Body<"startRollout">, ctx: TxContext): void {
  const fw = new FirmwareState(state);
  if (!fw.release(body.imageId)) reject("FIRMWARE_RELEASE_UNKNOWN", `release ${toHex(body.imageId)} is not published; publish it first (mote firmware release)`);
  if (body.selector.kind === "owner" && Buffer.compare(body.selector.ownerId, tx.authorId) !== 0) {
    reject("FIRMWARE_TARGET", "a rollout by owner must name its author: only a device's owner may roll out to it");
  }
  for (const id of body.targets) {
    const d = state.device(id);
    if (!d) reject("DEVICE_UNKNOWN", `target ${toHex(id)} is not enrolled`);
    if (Buffer.compare(d.owner, tx.authorId) !== 0) reject("DEVICE_NOT_OWNER", `only the owner ${toHex(d.owner)} may roll out to device ${toHex(id)}`);
    if (d.status !== deviceStatus.active) reject("DEVICE_NOT_ACTIVE", `target ${toHex(id)} is revoked or quarantined`);
    if (!matchesSelector(d, body.selector)) reject("FIRMWARE_TARGET", `target ${toHex(id)} does not match the rollout's selector`);
  }
  const index = fw.rolloutIndex();
  if (index.running.length >= rolloutsRunningMax) reject("FIRMWARE_ROLLOUTS_FULL", `${rolloutsRunningMax} rollouts are running; stop a finished one first (mote firmware rollout stop)`);
  const n = index.count + 1;
  fw.setRollout(n, { imageId: body.imageId, author: tx.authorId, selector: body.selector, targets: body.targets, inFlightMax: body.inFlightMax, height: ctx.height, stoppedHeight: 0 });
  fw.setRolloutIndex({ count: n, running: [...index.running, n] });
}

export function applyStopRollout(state: State, tx: DecodedTx, body: Body<"stopRollout">, ctx: TxContext): void {
  const fw = new FirmwareState(state);
  const r = fw.rollout(body.rollout);
  if (!r) reject("FIRMWARE_ROLLOUT_UNKNOWN", `rollout ${body.rollout} does not exist`);
  if (Buffer.compare(r.author, tx.authorId) !== 0) reject("DEVICE_NOT_OWNER", `only rollout ${body.rollout}'s author ${toHex(r.author)} may stop it`);
  if (r.stoppedHeight !== 0) reject("FIRMWARE_ROLLOUT_STOPPED", `rollout ${body.rollout} was stopped at height ${r.stoppedHeight}`);
  r.stoppedHeight = ctx.height;
  fw.setRollout(body.rollout, r);
  const index = fw.rolloutIndex();
  fw.setRolloutIndex({ count: index.count, running: index.running.filter((x) => x !== body.rollout) });
}

/** A report's numbers, or undefined when the reading carries no firmware records. */
export interface FirmwareReport {
  version?: number;
  failed?: { version: number; reason: number };
}

const isVersion = (v: number | undefined): v is number => v !== undefined && Number.isSafeInteger(v) && v >= 0 && v <= firmwareVersionMax;

/** Pure: the firmware records of a reading. Malformed values are ignored (the reading itself stands). */
export function firmwareReport(records: readonly SenmlRecord[]): FirmwareReport | undefined {
  // The first record of each name counts. One pass, and nothing allocated for a reading without
  // firmware records: every recorded reading on every validator comes through here.
  let seen = 0;
  let version: number | undefined;
  let failedVersion: number | undefined;
  let reason: number | undefined;
  for (const r of records) {
    if (r.name === firmwareRecordNames.version) {
      if (!(seen & 1)) version = r.value;
      seen |= 1;
    } else if (r.name === firmwareRecordNames.failedVersion) {
      if (!(seen & 2)) failedVersion = r.value;
      seen |= 2;
    } else if (r.name === firmwareRecordNames.reason) {
      if (!(seen & 4)) reason = r.value;
      seen |= 4;
    }
  }
  if (seen === 0) return undefined;
  const report: FirmwareReport = {};
  if (isVersion(version)) report.version = version;
  if (isVersion(failedVersion) && failedVersion > 0 && reason !== undefined && Number.isSafeInteger(reason) && reason >= 0 && reason <= 255) {
    report.failed = { version: failedVersion, reason };
  }
  return report.version === undefined && report.failed === undefined ? undefined : report;
}

/** Pure: the device's firmware record after one report from the reading `sequence` at `height`. */
export function withFirmwareReport(before: DeviceFirmware, report: FirmwareReport, sequence: number, height: number): DeviceFirmware {
  const after: DeviceFirmware = { ...before, failures: [...before.failures] };
  if (report.version !== undefined && sequence > before.sequence) {
    after.version = report.version;
    after.sequence = sequence;
    after.height = height;
  }
  const failed = report.failed;
  if (failed && !after.failures.some((f) => f.version === failed.version)) {
    after.failures.push({ version: failed.version, reason: failed.reason, sequence, height });
    if (after.failures.length > firmwareFailuresMax) after.failures.shift();
  }
  return after;
}

/** Called by apply-readings.ts for each reading a batch recorded (never for duplicates). */
export function recordFirmwareReport(state: State, deviceId: Uint8Array, sequence: number, records: readonly SenmlRecord[], height: number): void {
  const report = firmwareReport(records);
  if (!report) return;
  const fw = new FirmwareState(state);
  const before = fw.deviceFirmware(deviceId) ?? deviceFirmwareCodec.empty();
  fw.setDeviceFirmware(deviceId, withFirmwareReport(before, report, sequence, height));
}
