// Firmware state records (issue 11, gateway/chain/README.md "Firmware releases and rollouts"): releases, rollouts and each
// device's reported firmware, as deterministic CBOR arrays under the keys of keys.ts (firmware/...).
// Every one is a state record under the state root, provable like a device record; there is no index
// table. Field order is the encoding; extend by appending. A shape error is corruption (an invariant).
import type { CborValue } from "../../shared/cbor.ts";
import type { RolloutSelector } from "../../shared/tx.ts";
import { invariant } from "./errors.ts";
import { arr, bytes, int, list, text } from "./records.ts";

/** A published release: its manifest (verified when published) and where gateways fetch the image. */
export interface ReleaseRecord {
  manifest: Uint8Array;
  location: string;
  /** The account that published it (paid for it); the manifest's signer is the publisher key. */
  author: Uint8Array;
  height: number;
  /** The manifest's version, kept beside it so progress needs no manifest decoding. */
  version: number;
}

export interface RolloutRecord {
  /** The release's image id (8 bytes). */
  imageId: Uint8Array;
  /** The devices' owner who started it. */
  author: Uint8Array;
  selector: RolloutSelector;
  /** Ascending device ids: the offer order (firmware-rollout.ts). */
  targets: Uint8Array[];
  /** Most targets offered the update at a time. */
  inFlightMax: number;
  height: number;
  /** Height of the stopRollout that ended it; 0 while running. */
  stoppedHeight: number;
}

/** Rollout numbering and the running ones (what gateways consult). */
export interface RolloutIndex {
  /** Rollouts ever started: the next one is number count + 1. */
  count: number;
  /** Running rollout numbers, ascending. */
  running: number[];
}

export interface FirmwareFailure {
  version: number;
  /** The boot loader's reason code (shared/firmware-manifest.ts firmwareFailureReasons). */
  reason: number;
  /** The reading that first reported it. */
  sequence: number;
  height: number;
}

/** What a device's own signed readings said about its firmware. */
export interface DeviceFirmware {
  /** Running version from the reading with the highest sequence carrying "fw"; 0 before any. */
  version: number;
  /** Sequence of that reading; -1 before any. */
  sequence: number;
  /** Height of the block that recorded it. */
  height: number;
  /** Failed attempts, one per version (the first report of each), oldest first, at most firmwareFailuresMax. */
  failures: FirmwareFailure[];
}

export const releaseCodec = {
  to: (r: ReleaseRecord): CborValue => [r.manifest, r.location, r.author, r.height, r.version],
  from: (v: CborValue): ReleaseRecord => {
    const [manifest, location, author, height, version] = arr(v, 5, "firmware release");
    return { manifest: bytes(manifest), location: text(location), author: bytes(author), height: int(height), version: int(version) };
  },
};

function selectorTo(s: RolloutSelector): CborValue {
  return s.kind === "ids" ? [1] : s.kind === "owner" ? [2, s.ownerId] : [3, s.key, s.value];
}
function selectorFrom(v: CborValue): RolloutSelector {
  const a = list(v);
  if (a[0] === 1) return { kind: "ids" };
  if (a[0] === 2) return { kind: "owner", ownerId: bytes(a[1]) };
  invariant(a[0] === 3, "firmware record: unknown rollout selector");
  return { kind: "metadata", key: text(a[1]), value: text(a[2]) };
}

export const rolloutCodec = {
  to: (r: RolloutRecord): CborValue => [r.imageId, r.author, selectorTo(r.selector), r.targets, r.inFlightMax, r.height, r.stoppedHeight],
  from: (v: CborValue): RolloutRecord => {
    const [imageId, author, selector, targets, inFlightMax, height, stopped] = arr(v, 7, "firmware rollout");
    return { imageId: bytes(imageId), author: bytes(author), selector: selectorFrom(selector), targets: list(targets).map(bytes), inFlightMax: int(inFlightMax), height: int(height), stoppedHeight: int(stopped) };
  },
};

export const rolloutIndexCodec = {
  empty: (): RolloutIndex => ({ count: 0, running: [] }),
  to: (r: RolloutIndex): CborValue => [r.count, r.running],
  from: (v: CborValue): RolloutIndex => {
    const [count, running] = arr(v, 2, "firmware rollouts");
    return { count: int(count), running: list(running).map(int) };
  },
};

export const deviceFirmwareCodec = {
  empty: (): DeviceFirmware => ({ version: 0, sequence: -1, height: 0, failures: [] }),
  to: (d: DeviceFirmware): CborValue => [d.version, d.sequence, d.height, d.failures.map((f) => [f.version, f.reason, f.sequence, f.height])],
  from: (v: CborValue): DeviceFirmware => {
    const [version, sequence, height, failures] = arr(v, 4, "device firmware");
    return {
      version: int(version),
      sequence: int(sequence),
      height: int(height),
      failures: list(failures).map((f) => {
        const [fv, reason, seq, h] = arr(f, 4, "firmware failure");
        return { version: int(fv), reason: int(reason), sequence: int(seq), height: int(h) };
      }),
    };
  },
};
