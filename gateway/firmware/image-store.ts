// Firmware images kept by a gateway, content-addressed: <dataDir>/firmware/<SHA-256 hex>.wasm. An image
// is written only after its size and digest matched a manifest (image-fetch.ts, or the API's upload),
// atomically (temporary file, fsync, rename), and read back only if its bytes still hash to their name,
// so a torn or tampered file is never served. Memory holds at most imagesCachedMax images.
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";
import { sha256, toHex } from "../../shared/ed25519.ts";
import type { FirmwareManifest } from "../../shared/firmware-manifest.ts";
import { verifyImage } from "../../shared/firmware-manifest.ts";

export const imagesCachedMax = 16;

export class FirmwareImageStore {
  private readonly cache = new Map<string, Uint8Array>();
  readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, "firmware");
    mkdirSync(this.dir, { recursive: true });
  }

  private path(digestHex: string): string {
    return join(this.dir, `${digestHex}.wasm`);
  }

  /** The image with this SHA-256, or undefined when it is not here (or its file no longer matches). */
  get(digest: Uint8Array): Uint8Array | undefined {
    const hex = toHex(digest);
    const cached = this.cache.get(hex);
    if (cached) return cached;
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readFileSync(this.path(hex)));
    } catch {
      return undefined;
    }
    if (toHex(sha256(bytes)) !== hex) return undefined;
    this.remember(hex, bytes);
    return bytes;
  }

  /** Stores an image after checking it against `manifest` (FirmwareError "DIGEST" otherwise). */
  put(manifest: FirmwareManifest, image: Uint8Array): void {
    verifyImage(manifest, image);
    const hex = toHex(manifest.imageDigest);
    const target = this.path(hex);
    const temporary = `${target}.${process.pid}.tmp`;
    const fd = openSync(temporary, "w", 0o644);
    try {
      writeSync(fd, image);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, target);
    this.remember(hex, image);
  }

  private remember(hex: string, bytes: Uint8Array): void {
    this.cache.delete(hex);
    if (this.cache.size >= imagesCachedMax) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(hex, bytes);
  }
}
