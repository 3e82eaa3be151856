// A rollout's progress and its offers, computed from chain state alone, so every gateway offers the
// same devices at the same height (gateway/chain/README.md "Firmware releases and rollouts").
//
// Each target of rollout r (release version V), in ascending id order, is:
//   updated   its firmware record's version ≥ V (reported by its own signed readings);
//   failed    it reported a failed attempt of version V and runs a lower one;
//   inactive  revoked or quarantined since the rollout started;
//   unsupported  its last report says version 0: a host without image slots (device/ABI.md: the C
//             hosts for now) or an unsigned factory image, which cannot install anything; never offered;
//   offered   the first inFlightMax of the others, while the rollout runs: gateways put the manifest
//             in their answers to these devices' readings;
//   waiting   the rest: each target that ends updated or failed frees a slot for the next in id order.
// A device that never reports back keeps its slot; stop the rollout and start another to skip it.
import { toHex } from "../../shared/ed25519.ts";
import type { DeviceFirmware, ReleaseRecord, RolloutRecord } from "./firmware-records.ts";
import { FirmwareState } from "./firmware-state.ts";
import { deviceStatus } from "./records.ts";
import type { State } from "./state.ts";

export type TargetStatus = "updated" | "failed" | "inactive" | "unsupported" | "offered" | "waiting";

export interface TargetProgress {
  deviceId: Uint8Array;
  status: TargetStatus;
  /** The device's reported version (0 before any report). */
  version: number;
  /** The failure reason code when failed. */
  reason?: number;
}

export interface RolloutProgress {
  rollout: RolloutRecord;
  release: ReleaseRecord;
  running: boolean;
  counts: Record<TargetStatus, number>;
  targets: TargetProgress[];
}

function doneStatus(fw: DeviceFirmware | undefined, version: number): { status: "updated" | "failed"; reason?: number } | undefined {
  if (!fw) return undefined;
  if (fw.version >= version) return { status: "updated" };
  const failure = fw.failures.find((f) => f.version === version);
  return failure ? { status: "failed", reason: failure.reason } : undefined;
}

/** The device's readings said it runs version 0: it has no image slots to install into. */
function cannotUpdate(fw: DeviceFirmware | undefined): boolean {
  return fw !== undefined && fw.sequence >= 0 && fw.version === 0;
}

/** Every target's status; undefined for a rollout number that does not exist. */
export function rolloutProgress(state: State, n: number): RolloutProgress | undefined {
  const fws = new FirmwareState(state);
  const rollout = fws.rollout(n);
  if (!rollout) return undefined;
  const release = fws.release(rollout.imageId);
  if (!release) throw new Error(`assertion: rollout ${n} names release ${toHex(rollout.imageId)} that is not in state`);
  const running = rollout.stoppedHeight === 0;
  const counts: Record<TargetStatus, number> = { updated: 0, failed: 0, inactive: 0, unsupported: 0, offered: 0, waiting: 0 };
  const targets = rollout.targets.map((deviceId): TargetProgress => {
    const fw = fws.deviceFirmware(deviceId);
    const version = fw?.version ?? 0;
    const done = doneStatus(fw, release.version);
    let status: TargetStatus;
    if (done) status = done.status;
    else if (state.device(deviceId)?.status !== deviceStatus.active) status = "inactive";
    else if (cannotUpdate(fw)) status = "unsupported";
    else status = running && counts.offered < rollout.inFlightMax ? "offered" : "waiting";
    counts[status] += 1;
    return done?.reason === undefined ? { deviceId, status, version } : { deviceId, status, version, reason: done.reason };
  });
  return { rollout, release, running, counts, targets };
}

/** What a gateway may offer one device: the release and the rollout offering it. */
export interface FirmwareOffer {
  rollout: number;
  imageId: string;
  version: number;
  manifest: Uint8Array;
}

/**
 * Offers of every running rollout, by device id (hex). A device offered by several gets the highest
 * version (then the lowest rollout number). Reads stop at each rollout's inFlightMax-th offer.
 */
export function firmwareOffers(state: State): Map<string, FirmwareOffer> {
  const fws = new FirmwareState(state);
  const offers = new Map<string, FirmwareOffer>();
  for (const n of fws.rolloutIndex().running) {
    const rollout = fws.rollout(n);
    const release = rollout && fws.release(rollout.imageId);
    if (!rollout || !release) throw new Error(`assertion: running rollout ${n} or its release is missing from state`);
    let offered = 0;
    for (const deviceId of rollout.targets) {
      if (offered >= rollout.inFlightMax) break;
      const fw = fws.deviceFirmware(deviceId);
      if (doneStatus(fw, release.version) || cannotUpdate(fw)) continue;
      if (state.device(deviceId)?.status !== deviceStatus.active) continue;
      offered += 1;
      const key = toHex(deviceId);
      const prior = offers.get(key);
      if (prior && prior.version >= release.version) continue;
      offers.set(key, { rollout: n, imageId: toHex(rollout.imageId), version: release.version, manifest: release.manifest });
    }
  }
  return offers;
}
