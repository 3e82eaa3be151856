// The boot loader's persistent state and every transition of it, as pure functions: which image
// slot holds what, which one is confirmed, whether a new one is on trial, and the last failed
// attempt (docs/firmware-update.md). The I/O (image-slots.ts) writes each new state atomically,
// so a power cut at any point leaves either the state before a transition or the one after.
//
// Invariant (asserted by checkBootState, on every load and every store): the confirmed slot holds
// an image; a trial names the other slot, which holds an image; a slot being written (`receiving`)
// is neither confirmed nor on trial, and holds no manifest. So the bytes of any slot the boot
// loader may start are never written, and every slot it may start has its manifest.
import { decode, encode, type CborValue } from "../../shared/cbor.ts";
import { MoteError } from "../../shared/errors.ts";

export type SlotIndex = 0 | 1;

export interface BootState {
  /** The slot of the confirmed image: booted unless a trial is due. */
  confirmed: SlotIndex;
  /** Per slot: the signed manifest of its image; null for an empty slot (or one being written),
   *  or for a factory image provisioned without one (version 0). */
  manifests: [Uint8Array | null, Uint8Array | null];
  /** Per slot: its image's version (0 for none or a factory image without a manifest). */
  versions: [number, number];
  /** A newly installed image: `booted` once it has been started (a reset then ends the trial). */
  trial: { slot: SlotIndex; booted: boolean } | null;
  /** The slot fw_write is filling, if any (never confirmed, never on trial). */
  receiving: SlotIndex | null;
  /** The last failed attempt, reported in the firmware's next readings until an update succeeds. */
  lastFailure: { version: number; reason: number } | null;
}

export class BootStateError extends MoteError {}

export const other = (s: SlotIndex): SlotIndex => (s === 0 ? 1 : 0);

/** A freshly provisioned board: the factory image in slot 0, confirmed. */
export function provisioned(manifest: Uint8Array | null, version: number): BootState {
  return { confirmed: 0, manifests: [manifest, null], versions: [version, 0], trial: null, receiving: null, lastFailure: null };
}

/** Where the next image goes: the slot that is not confirmed. Refused while a trial runs. */
export function inactiveSlot(s: BootState): SlotIndex | null {
  return s.trial ? null : other(s.confirmed);
}

/** fw_write at offset 0: the inactive slot forgets its image before a byte of it is overwritten. */
export function beginReceive(s: BootState, slot: SlotIndex): BootState {
  const manifests = [...s.manifests] as BootState["manifests"];
  const versions = [...s.versions] as BootState["versions"];
  manifests[slot] = null;
  versions[slot] = 0;
  return { ...s, manifests, versions, receiving: slot };
}

/** fw_install accepted the image in `slot`: it boots on trial at the next start. */
export function installed(s: BootState, slot: SlotIndex, manifest: Uint8Array, version: number): BootState {
  const manifests = [...s.manifests] as BootState["manifests"];
  const versions = [...s.versions] as BootState["versions"];
  manifests[slot] = manifest;
  versions[slot] = version;
  return { ...s, manifests, versions, receiving: null, trial: { slot, booted: false } };
}

/** fw_install refused an image (or a trial failed): remembered for the firmware's next report. */
export function failed(s: BootState, version: number, reason: number): BootState {
  return { ...s, trial: null, receiving: null, lastFailure: { version, reason } };
}

/** The running trial image confirmed itself: it becomes the confirmed image. */
export function confirmed(s: BootState): BootState {
  if (!s.trial) return s;
  return { ...s, confirmed: s.trial.slot, trial: null, lastFailure: null };
}

/**
 * What to start at power-on, and the state to persist before starting it: a trial that was never
 * started starts now (marked booted first); a trial that was started and not confirmed means the
 * board was reset during it (RESET), so the confirmed image starts instead.
 */
export function atPowerOn(s: BootState): { state: BootState; slot: SlotIndex; onTrial: boolean } {
  if (s.trial && !s.trial.booted) return { state: { ...s, trial: { slot: s.trial.slot, booted: true } }, slot: s.trial.slot, onTrial: true };
  if (s.trial) {
    const state = failed(s, s.versions[s.trial.slot], 8 /* RESET */);
    return { state, slot: state.confirmed, onTrial: false };
  }
  return { state: s, slot: s.confirmed, onTrial: false };
}

export function checkBootState(s: BootState): BootState {
  const bad = (why: string) => {
    throw new BootStateError("BOOT_STATE", `boot state is inconsistent: ${why}; re-provision the board's image slots`);
  };
  if (s.confirmed !== 0 && s.confirmed !== 1) bad("no confirmed slot");
  if (s.receiving === s.confirmed) bad("the confirmed slot is being written");
  if (s.trial) {
    if (s.trial.slot === s.confirmed) bad("the trial slot is the confirmed one");
    if (s.receiving === s.trial.slot) bad("the trial slot is being written");
    if (!s.manifests[s.trial.slot]) bad("the trial slot has no manifest");
  }
  if (s.receiving !== null && s.manifests[s.receiving]) bad("a slot being written keeps a manifest");
  return s;
}

export function encodeBootState(s: BootState): Uint8Array {
  checkBootState(s);
  return encode([
    1, // format
    s.confirmed,
    s.manifests[0] ?? null,
    s.manifests[1] ?? null,
    s.versions[0],
    s.versions[1],
    s.trial ? [s.trial.slot, s.trial.booted] : null,
    s.receiving,
    s.lastFailure ? [s.lastFailure.version, s.lastFailure.reason] : null,
  ]);
}

export function decodeBootState(bytes: Uint8Array): BootState {
  const bad = (): never => {
    throw new BootStateError("BOOT_STATE", "boot state record is malformed; re-provision the board's image slots");
  };
  let v: CborValue;
  try {
    v = decode(bytes);
  } catch {
    return bad();
  }
  if (!Array.isArray(v) || v.length !== 9 || v[0] !== 1) return bad();
  const slot = (x: CborValue): SlotIndex => (x === 0 || x === 1 ? x : bad());
  const bytesOrNull = (x: CborValue): Uint8Array | null => (x === null ? null : x instanceof Uint8Array ? x : bad());
  const version = (x: CborValue): number => (typeof x === "number" && Number.isInteger(x) && x >= 0 && x <= 0xffffffff ? x : bad());
  const trial = v[6];
  const failure = v[8];
  return checkBootState({
    confirmed: slot(v[1]),
    manifests: [bytesOrNull(v[2]), bytesOrNull(v[3])],
    versions: [version(v[4]), version(v[5])],
    trial: trial === null ? null : Array.isArray(trial) && trial.length === 2 && typeof trial[1] === "boolean" ? { slot: slot(trial[0]), booted: trial[1] } : bad(),
    receiving: v[7] === null ? null : slot(v[7]),
    lastFailure: failure === null ? null : Array.isArray(failure) && failure.length === 2 ? { version: version(failure[0]), reason: version(failure[1]) } : bad(),
  });
}
