// What a gateway does for firmware updates, between the chain and its CoAP resources:
//   - offerFor(reading): the manifest to put in the answer to a device's reading, when a running rollout
//     offers this device a release (gateway/chain/firmware-rollout.ts, recomputed once per new head) and
//     neither the chain nor the reading itself says the device runs that version or a later one, nor the
//     latest report this gateway has seen from the device (see below), and the image is here to be pulled;
//   - image(id): a published release's image for GET /f/<image id>, from the content-addressed store,
//     fetched from the release's location (and checked against its manifest) when missing.
// Fetches run in the background, one per image at a time, retried no sooner than fetchRetryMs.
import type { Logger } from "pino";
import { fromHex, toHex } from "../../shared/ed25519.ts";
import { decodeManifest, type SignedManifest } from "../../shared/firmware-manifest.ts";
import type { SenmlRecord } from "../../shared/senml.ts";
import { firmwareReport } from "../chain/apply-firmware.ts";
import { firmwareOffers, type FirmwareOffer } from "../chain/firmware-rollout.ts";
import { FirmwareState } from "../chain/firmware-state.ts";
import type { State } from "../chain/state.ts";
import { fetchDefaults, fetchImage, type FetchOptions } from "./image-fetch.ts";
import type { FirmwareImageStore } from "./image-store.ts";

export interface FirmwareChainView {
  head(): { height: number };
  state(): State;
}

export interface FirmwareServiceOptions extends FetchOptions {
  /** Least time between two fetch attempts of one image. */
  fetchRetryMs: number;
  /** Max-Age a device is told to wait while an image is being fetched. */
  retryAfterS: number;
}

export const firmwareServiceDefaults: FirmwareServiceOptions = { ...fetchDefaults, fetchRetryMs: 30_000, retryAfterS: 30 };

/**
 * Devices whose latest version report this gateway remembers. A device reports its version only in the
 * first reading after a boot; until that reading is final on chain, the readings that follow it say
 * nothing and the chain still holds the old version, so without this memory the gateway would offer
 * the release again to a device already running it (which pulls the whole image once more, and its
 * boot loader refuses it: a VERSION failure on chain).
 */
export const reportedDevicesMax = 4096;

/** What offerFor reads of a reading ingest accepted (gateway/ingest/pipeline.ts IngestOutcome). */
export interface IngestedReading {
  deviceId: Uint8Array;
  sequence: number;
  records: readonly SenmlRecord[];
}

export type ImageAnswer = { kind: "image"; bytes: Uint8Array } | { kind: "fetching"; retryAfterS: number } | { kind: "unknown" };

export class FirmwareService {
  private offersHeight = -1;
  private offers = new Map<string, FirmwareOffer>();
  private readonly manifests = new Map<string, SignedManifest>();
  private readonly fetching = new Map<string, Promise<void>>();
  private readonly lastAttemptMs = new Map<string, number>();
  /** device id (hex) → the version in its highest-sequence report seen here; oldest entry dropped first. */
  private readonly reported = new Map<string, { version: number; sequence: number }>();

  constructor(
    private readonly chain: FirmwareChainView,
    private readonly store: FirmwareImageStore,
    private readonly log: Logger,
    private readonly options: FirmwareServiceOptions = firmwareServiceDefaults,
    private readonly clock: () => number = Date.now,
  ) {}

  private currentOffers(): Map<string, FirmwareOffer> {
    const height = this.chain.head().height;
    if (height !== this.offersHeight) {
      this.offers = firmwareOffers(this.chain.state());
      this.offersHeight = height;
    }
    return this.offers;
  }

  private manifest(imageId: string, bytes: Uint8Array): SignedManifest {
    let m = this.manifests.get(imageId);
    if (!m) {
      m = decodeManifest(bytes); // verified by the chain when published
      if (this.manifests.size >= 256) this.manifests.clear();
      this.manifests.set(imageId, m);
    }
    return m;
  }

  /** The manifest to answer an accepted reading with (as ingest decoded it), or undefined (see the header). */
  offerFor(reading: IngestedReading): Uint8Array | undefined {
    const deviceHex = toHex(reading.deviceId);
    const reported = this.remember(deviceHex, reading.sequence, firmwareReport(reading.records)?.version);
    const offer = this.currentOffers().get(deviceHex);
    if (!offer) return undefined;
    if (reported !== undefined && reported >= offer.version) return undefined;
    const onChain = new FirmwareState(this.chain.state()).deviceFirmware(reading.deviceId)?.version ?? 0;
    if (onChain >= offer.version) return undefined;
    if (this.image(offer.imageId).kind !== "image") return undefined; // offered once the image is here
    return offer.manifest;
  }

  /**
   * The version of the device's highest-sequence report seen here, this reading's included (a rollback
   * is reported in a later reading, so the latest report wins, not the highest version).
   */
  private remember(deviceHex: string, sequence: number, version: number | undefined): number | undefined {
    const known = this.reported.get(deviceHex);
    if (version === undefined || (known && known.sequence >= sequence)) return known?.version;
    this.reported.delete(deviceHex); // re-inserted last: the map's order is the eviction order
    if (this.reported.size >= reportedDevicesMax) this.reported.delete(this.reported.keys().next().value!);
    this.reported.set(deviceHex, { version, sequence });
    return version;
  }

  /** A published release's image by its image id (16 hex digits). */
  image(imageId: string): ImageAnswer {
    const release = new FirmwareState(this.chain.state()).release(fromHex(imageId));
    if (!release) return { kind: "unknown" };
    const signed = this.manifest(imageId, release.manifest);
    const bytes = this.store.get(signed.manifest.imageDigest);
    if (bytes) return { kind: "image", bytes };
    this.startFetch(imageId, release.location, signed);
    return { kind: "fetching", retryAfterS: this.options.retryAfterS };
  }

  /** Resolves once any fetch in flight settled (tests and shutdown). */
  async settled(): Promise<void> {
    await Promise.all(this.fetching.values());
  }

  private startFetch(imageId: string, location: string, signed: SignedManifest): void {
    if (this.fetching.has(imageId)) return;
    const now = this.clock();
    if (now - (this.lastAttemptMs.get(imageId) ?? -Infinity) < this.options.fetchRetryMs) return;
    this.lastAttemptMs.set(imageId, now);
    const run = fetchImage(location, signed.manifest, this.options)
      .then((image) => {
        this.store.put(signed.manifest, image);
        this.log.info({ imageId, location, bytes: image.length, version: signed.manifest.version }, "firmware image fetched");
      })
      .catch((e: unknown) => this.log.warn({ imageId, location, err: e, code: (e as { code?: string }).code ?? "IMAGE_FETCH" }, "firmware image fetch failed"))
      .finally(() => this.fetching.delete(imageId));
    this.fetching.set(imageId, run);
  }
}
