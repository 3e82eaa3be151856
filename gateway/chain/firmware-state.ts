// Typed access to the firmware part of the chain state (firmware-records.ts), over the same overlays as
// every other record (state.ts), so a transaction's firmware writes fork, merge and drop with it.
import { invariant } from "./errors.ts";
import { stateKey } from "./keys.ts";
import {
  deviceFirmwareCodec,
  releaseCodec,
  rolloutCodec,
  rolloutIndexCodec,
  type DeviceFirmware,
  type ReleaseRecord,
  type RolloutIndex,
  type RolloutRecord,
} from "./firmware-records.ts";
import { idListCodec } from "./records.ts";
import type { State } from "./state.ts";

export class FirmwareState {
  constructor(readonly state: State) {}

  /** Publisher keys the chain accepts manifests from; empty when the genesis names none. */
  publishers(): Uint8Array[] {
    return this.state.read(stateKey.firmwarePublishers(), idListCodec.from) ?? [];
  }
  /** Genesis only: there is no transaction that changes them. */
  setPublishers(keys: Uint8Array[]): void {
    invariant(keys.every((k) => k.length === 32), "firmware publisher keys are 32 bytes");
    this.state.write(stateKey.firmwarePublishers(), keys.length ? idListCodec.to(keys) : null);
  }

  release(imageId: Uint8Array): ReleaseRecord | undefined {
    return this.state.read(stateKey.firmwareRelease(imageId), releaseCodec.from);
  }
  setRelease(imageId: Uint8Array, r: ReleaseRecord): void {
    this.state.write(stateKey.firmwareRelease(imageId), releaseCodec.to(r));
  }
  releaseIds(): Uint8Array[] {
    return this.state.read(stateKey.firmwareReleases(), idListCodec.from) ?? [];
  }
  setReleaseIds(ids: Uint8Array[]): void {
    this.state.write(stateKey.firmwareReleases(), idListCodec.to(ids));
  }

  rollout(n: number): RolloutRecord | undefined {
    return this.state.read(stateKey.firmwareRollout(n), rolloutCodec.from);
  }
  setRollout(n: number, r: RolloutRecord): void {
    this.state.write(stateKey.firmwareRollout(n), rolloutCodec.to(r));
  }
  rolloutIndex(): RolloutIndex {
    return this.state.read(stateKey.firmwareRollouts(), rolloutIndexCodec.from) ?? rolloutIndexCodec.empty();
  }
  setRolloutIndex(r: RolloutIndex): void {
    this.state.write(stateKey.firmwareRollouts(), rolloutIndexCodec.to(r));
  }

  deviceFirmware(deviceId: Uint8Array): DeviceFirmware | undefined {
    return this.state.read(stateKey.deviceFirmware(deviceId), deviceFirmwareCodec.from);
  }
  setDeviceFirmware(deviceId: Uint8Array, d: DeviceFirmware): void {
    this.state.write(stateKey.deviceFirmware(deviceId), deviceFirmwareCodec.to(d));
  }
}
