// Fetching a release's image from its location (an http(s) URL, usually another gateway's
// GET /v1/firmware/images/<sha256>) with limits: at most the manifest's size is read, within a timeout,
// and the bytes must have the manifest's size and SHA-256 before anyone keeps them.
import { FirmwareError } from "../../shared/errors.ts";
import { verifyImage, type FirmwareManifest } from "../../shared/firmware-manifest.ts";
import { FirmwareImageError } from "./errors.ts";

export interface FetchOptions {
  timeoutMs: number;
  fetch?: typeof globalThis.fetch;
}

export const fetchDefaults: FetchOptions = { timeoutMs: 30_000 };

export async function fetchImage(location: string, manifest: FirmwareManifest, options: FetchOptions = fetchDefaults): Promise<Uint8Array> {
  const doFetch = options.fetch ?? globalThis.fetch;
  let res: Response;
  try {
    res = await doFetch(location, { signal: AbortSignal.timeout(options.timeoutMs), redirect: "follow" });
  } catch (e) {
    throw new FirmwareImageError("IMAGE_FETCH", `cannot fetch ${location}: ${(e as Error).message}; the gateway retries later`);
  }
  if (!res.ok) throw new FirmwareImageError("IMAGE_FETCH", `${location} answered HTTP ${res.status}; the gateway retries later`);
  const declared = Number(res.headers.get("content-length") ?? NaN);
  if (Number.isFinite(declared) && declared > manifest.imageBytes) {
    await res.body?.cancel();
    throw new FirmwareImageError("IMAGE_DIGEST", `${location} serves ${declared} bytes; the manifest says ${manifest.imageBytes}`);
  }
  const image = await readAtMost(res, manifest.imageBytes, location, options.timeoutMs);
  try {
    verifyImage(manifest, image);
  } catch (e) {
    if (e instanceof FirmwareError) throw new FirmwareImageError("IMAGE_DIGEST", `${location}: ${e.message}`);
    throw e;
  }
  return image;
}

async function readAtMost(res: Response, bytesMax: number, location: string, timeoutMs: number): Promise<Uint8Array> {
  const out = new Uint8Array(bytesMax);
  let n = 0;
  const reader = res.body?.getReader();
  if (!reader) return out.subarray(0, 0);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    if (n + value.length > bytesMax) {
      await reader.cancel();
      throw new FirmwareImageError("IMAGE_DIGEST", `${location} serves more than the manifest's ${bytesMax} bytes`);
    }
    out.set(value, n);
    n += value.length;
    if (Date.now() > deadline) {
      await reader.cancel();
      throw new FirmwareImageError("IMAGE_FETCH", `${location} too slow: not done within ${timeoutMs} ms`);
    }
  }
  return out.subarray(0, n);
}
