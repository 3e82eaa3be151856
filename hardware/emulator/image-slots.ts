// The board's two firmware image slots and the boot loader's state, as files in its flash
// directory: image-0.wasm, image-1.wasm and boot.cbor (boot-state.ts). The state is replaced
// atomically (write, fsync, rename, fsync the directory); an image is written in place, block by
// block, but only ever into a slot the state marks as being received, which nothing boots.
import { closeSync, fsyncSync, ftruncateSync, openSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { decodeBootState, encodeBootState, type BootState, type SlotIndex } from "./boot-state.ts";
import { readFileOrNull, writeFileAtomic } from "./slot-store.ts";

/** An image slot's capacity: the manifest format's limit (shared/firmware-manifest.ts imageBytesMax). */
export const IMAGE_BYTES_MAX = 65_536;

export class ImageSlots {
  constructor(readonly dir: string) {}

  private imagePath(slot: SlotIndex): string {
    return join(this.dir, `image-${slot}.wasm`);
  }

  /** The persisted state, or null for a board never provisioned for updates. */
  readState(): BootState | null {
    const bytes = readFileOrNull(join(this.dir, "boot.cbor"));
    return bytes && decodeBootState(bytes);
  }

  writeState(state: BootState): void {
    writeFileAtomic(this.dir, "boot.cbor", encodeBootState(state));
  }

  readImage(slot: SlotIndex): Uint8Array | null {
    return readFileOrNull(this.imagePath(slot));
  }

  /** Bytes written into the slot so far, -1 if it holds no file. */
  imageBytes(slot: SlotIndex): number {
    try {
      return statSync(this.imagePath(slot)).size;
    } catch {
      return -1;
    }
  }

  /** Writes a whole image durably (provisioning the factory image). */
  putImage(slot: SlotIndex, bytes: Uint8Array): void {
    writeFileAtomic(this.dir, `image-${slot}.wasm`, bytes);
  }

  /** Writes `bytes` at `offset`; offset 0 empties the slot first. Durable before returning, as a flash write is. */
  writeAt(slot: SlotIndex, offset: number, bytes: Uint8Array): void {
    const fd = openSync(this.imagePath(slot), offset === 0 ? "w" : "r+", 0o600);
    try {
      if (offset === 0) ftruncateSync(fd, 0);
      writeSync(fd, bytes, 0, bytes.length, offset);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}
