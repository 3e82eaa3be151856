// Fetching a release's image from its location (an http(s) URL, usually another gateway's
// GET /v1/firmware/images/<sha256>) with limits (gateway/http-fetch.ts): at most the manifest's size is
// read, within a timeout, and the bytes must have the manifest's size and SHA-256 before anyone keeps them.
import { FirmwareError } from "../../shared/errors.ts";
import { verifyImage, type FirmwareManifest } from "../../shared/firmware-manifest.ts";
import { BoundedFetchError, fetchBounded } from "../http-fetch.ts";
import { FirmwareImageError } from "./errors.ts";

export interface FetchOptions {
  timeoutMs: number;
  fetch?: typeof globalThis.fetch;
}

export const fetchDefaults: FetchOptions = { timeoutMs: 30_000 };

export async function fetchImage(location: string, manifest: FirmwareManifest, options: FetchOptions = fetchDefaults): Promise<Uint8Array> {
  let image: Uint8Array;
  try {
    ({ bytes: image } = await fetchBounded(location, { bytesMax: manifest.imageBytes, timeoutMs: options.timeoutMs, fetch: options.fetch }));
  } catch (e) {
    if (!(e instanceof BoundedFetchError)) throw e;
    if (e.code === "TOO_LARGE") throw new FirmwareImageError("IMAGE_DIGEST", `${e.message}: the manifest says ${manifest.imageBytes}`);
    throw new FirmwareImageError("IMAGE_FETCH", `${e.message}; the gateway retries later`);
  }
  try {
    verifyImage(manifest, image);
  } catch (e) {
    if (e instanceof FirmwareError) throw new FirmwareImageError("IMAGE_DIGEST", `${location}: ${e.message}`);
    throw e;
  }
  return image;
}
