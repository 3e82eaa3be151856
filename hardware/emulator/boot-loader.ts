// The Node board's boot loader (docs/firmware-update.md): it owns the two image slots and decides
// what runs. The firmware only writes into the inactive slot (fw_write) and asks for an install
// (fw_install); the boot loader accepts an image only when its manifest verifies under the
// publisher key the board was provisioned with, the image has the manifest's size and SHA-256,
// the version is higher than the running one and the ABI is one this host implements. A new image
// runs on trial until it confirms itself (fw_confirm); a trap, the trial time running out, or a
// reset before that sends the board back to the confirmed image, and the failure is reported.
//
// Guarantee kept here: the board only ever starts an image whose manifest verifies and whose bytes
// match it (or the factory image it was provisioned with), checked again at every start.
import { decodeManifest, firmwareFailureReasons, verifyImage, verifyManifest, type SignedManifest } from "../../shared/firmware-manifest.ts";
import { MoteError } from "../../shared/errors.ts";
import { atPowerOn, beginReceive, confirmed, failed, inactiveSlot, installed, other, provisioned, type BootState, type SlotIndex } from "./boot-state.ts";
import { IMAGE_BYTES_MAX, ImageSlots } from "./image-slots.ts";
import type { UpdateHost } from "./firmware.ts";

/** The firmware ABI versions this host implements (device/ABI.md). */
export const HOST_ABI_VERSION = 2;

const reason = Object.fromEntries(Object.entries(firmwareFailureReasons).map(([k, v]) => [v, Number(k)])) as Record<string, number>;

export class BootLoaderError extends MoteError {}

export interface BootLoaderOptions {
  /** The board's flash directory. */
  dir: string;
  /** The publisher's Ed25519 public key the board trusts (raw 32 bytes). */
  publisherKey: Uint8Array;
  /** The factory image and its signed manifest, written to slot 0 on the first start. */
  factoryImage: Uint8Array;
  factoryManifest?: Uint8Array;
  log?: (level: number, message: string) => void;
}

/** What a start chose: the image to instantiate, and whether it runs on trial. */
export interface BootChoice {
  image: Uint8Array;
  version: number;
  onTrial: boolean;
}

export class BootLoader implements UpdateHost {
  private readonly slots: ImageSlots;
  private persisted: BootState;
  private running: { slot: SlotIndex; onTrial: boolean } = { slot: 0, onTrial: false };
  /** Set by a successful install: the board restarts the firmware once the current call returns. */
  restartPending = false;

  constructor(private readonly options: BootLoaderOptions) {
    if (options.publisherKey.length !== 32) throw new BootLoaderError("BOOT_PUBLISHER_KEY", "the publisher key must be a raw 32-byte Ed25519 public key");
    this.slots = new ImageSlots(options.dir);
    this.persisted = this.slots.readState() ?? this.provision();
  }

  private provision(): BootState {
    const { factoryImage, factoryManifest } = this.options;
    let version = 0;
    if (factoryManifest) {
      const signed = this.open(factoryManifest);
      verifyImage(signed.manifest, factoryImage);
      version = signed.manifest.version;
    }
    this.slots.putImage(0, factoryImage);
    const state = provisioned(factoryManifest ?? null, version);
    this.slots.writeState(state);
    return state;
  }

  private open(manifestBytes: Uint8Array): SignedManifest {
    const signed = decodeManifest(manifestBytes);
    verifyManifest(signed, this.options.publisherKey);
    return signed;
  }

  private persist(next: BootState): void {
    this.slots.writeState(next);
    this.persisted = next;
  }

  /** Power-on: picks the image to start (persisting the choice first) and checks it again. */
  boot(): BootChoice {
    const resetDuringTrial = this.persisted.trial?.booted === true;
    const choice = atPowerOn(this.persisted);
    this.persist(choice.state);
    if (resetDuringTrial) this.log(2, "trial ended by a reset: back to the confirmed image");
    const image = this.verifiedImage(choice.slot);
    if (image) {
      this.running = { slot: choice.slot, onTrial: choice.onTrial };
      return { image, version: this.persisted.versions[choice.slot], onTrial: choice.onTrial };
    }
    if (choice.onTrial) {
      // The trial image does not verify any more: fail it, start the confirmed one.
      this.persist(failed(this.persisted, this.persisted.versions[choice.slot], reason.DIGEST));
      return this.boot();
    }
    throw new BootLoaderError("BOOT_NO_IMAGE", `the confirmed image in slot ${choice.slot} of ${this.options.dir} does not match its manifest: the flash is damaged; re-flash the board over serial`);
  }

  /** The slot's image if it matches its manifest (or is the unsigned factory image), else null. */
  private verifiedImage(slot: SlotIndex): Uint8Array | null {
    const image = this.slots.readImage(slot);
    if (!image) return null;
    const manifest = this.persisted.manifests[slot];
    if (!manifest) return slot === this.persisted.confirmed && this.persisted.versions[slot] === 0 ? image : null;
    try {
      verifyImage(this.open(manifest).manifest, image);
      return image;
    } catch {
      return null;
    }
  }

  /** The running image on trial trapped or ran out of time: back to the confirmed image. */
  trialFailed(why: "TRAP" | "UNCONFIRMED"): void {
    if (!this.running.onTrial || !this.persisted.trial) return;
    const version = this.persisted.versions[this.running.slot];
    this.persist(failed(this.persisted, version, reason[why]));
    this.log(3, `firmware v${version} on trial failed (${why}): back to v${this.persisted.versions[this.persisted.confirmed]}`);
  }

  get onTrial(): boolean {
    return this.running.onTrial;
  }

  get runningVersion(): number {
    return this.persisted.versions[this.running.slot];
  }

  // ---- UpdateHost: the firmware's imports ----

  state(): { version: number; trial: boolean; failedVersion: number; failureReason: number } {
    const f = this.persisted.lastFailure;
    return { version: this.runningVersion, trial: this.running.onTrial, failedVersion: f?.version ?? 0, failureReason: f?.reason ?? 0 };
  }

  write(offset: number, bytes: Uint8Array): number {
    const slot = inactiveSlot(this.persisted);
    if (slot === null || slot === this.running.slot) return -1; // a trial runs: confirm it first
    if (!Number.isInteger(offset) || offset < 0 || offset + bytes.length > IMAGE_BYTES_MAX) return -1;
    try {
      if (offset === 0) {
        if (this.persisted.receiving !== slot) this.persist(beginReceive(this.persisted, slot));
      } else if (this.persisted.receiving !== slot || this.slots.imageBytes(slot) !== offset) {
        return -1; // blocks arrive in order, after one at offset 0
      }
      this.slots.writeAt(slot, offset, bytes);
      return 0;
    } catch {
      return -2;
    }
  }

  install(manifestBytes: Uint8Array): number {
    const slot = this.persisted.receiving;
    let signed: SignedManifest | undefined;
    const refuse = (why: keyof typeof reason, detail: string): number => {
      const version = signed?.manifest.version ?? 0;
      this.persist(failed(this.persisted, version, reason[why]));
      this.log(2, `install of v${version} refused (${why}): ${detail}`);
      return -reason[why];
    };
    try {
      signed = decodeManifest(manifestBytes);
    } catch (e) {
      return refuse("MANIFEST", (e as Error).message);
    }
    try {
      verifyManifest(signed, this.options.publisherKey);
    } catch (e) {
      return refuse("SIGNATURE", (e as Error).message);
    }
    const m = signed.manifest;
    if (m.version <= this.runningVersion) return refuse("VERSION", `v${m.version} is not above the running v${this.runningVersion}`);
    if (m.abiVersion > HOST_ABI_VERSION) return refuse("ABI", `the image needs ABI ${m.abiVersion}; this host implements ${HOST_ABI_VERSION}`);
    const image = slot === null ? null : this.slots.readImage(slot);
    if (slot === null || !image) return refuse("DIGEST", "no image was written for it");
    try {
      verifyImage(m, image);
    } catch (e) {
      return refuse("DIGEST", (e as Error).message);
    }
    this.persist(installed(this.persisted, slot, manifestBytes, m.version));
    this.restartPending = true;
    this.log(1, `v${m.version} installed in slot ${slot}: starting it on trial`);
    return 0;
  }

  confirm(): number {
    if (!this.running.onTrial || !this.persisted.trial) return -1;
    this.persist(confirmed(this.persisted));
    this.running = { slot: this.running.slot, onTrial: false };
    this.log(1, `v${this.runningVersion} confirmed`);
    return 0;
  }

  /** The slot the confirmed image would fall back to (for tests and status). */
  get fallbackSlot(): SlotIndex {
    return other(this.running.slot);
  }

  private log(level: number, message: string): void {
    this.options.log?.(level, `boot: ${message}`);
  }
}
