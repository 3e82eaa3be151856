// Persistent storage slots backed by files: `<dir>/slot-<n>.bin`. Writes are atomic and durable
// as device/ABI.md demands of `storage_write`: write a temporary file, fsync it, rename it over
// the slot, fsync the directory. After a crash a slot holds the old or the new bytes.
// Slot 0 holds the device's private seed: slots are mode 0600 and the directory 0700, as key files are.
import { closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";

export const SLOT_BYTES_MAX = 256;
export const SLOTS_MAX = 8;

export class SlotStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  private path(slot: number): string {
    return join(this.dir, `slot-${slot}.bin`);
  }

  /** The slot's bytes, null if never written. Throws on I/O errors other than absence. */
  read(slot: number): Uint8Array | null {
    if (!Number.isInteger(slot) || slot < 0 || slot >= SLOTS_MAX) throw new RangeError(`no storage slot ${slot}`);
    return readFileOrNull(this.path(slot));
  }

  write(slot: number, bytes: Uint8Array): void {
    if (!Number.isInteger(slot) || slot < 0 || slot >= SLOTS_MAX) throw new RangeError(`no storage slot ${slot}`);
    if (bytes.length > SLOT_BYTES_MAX) throw new RangeError(`slot ${slot}: ${bytes.length} bytes over ${SLOT_BYTES_MAX}`);
    writeFileAtomic(this.dir, `slot-${slot}.bin`, bytes);
  }
}

/** A file's bytes, or null if it was never written. Throws on I/O errors other than absence. */
export function readFileOrNull(path: string): Uint8Array | null {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/**
 * Replaces dir/name with `bytes` so that after a crash it holds the old or the new bytes, never a
 * mix: write a temporary file, fsync it, rename it over the file, fsync the directory. Mode 0600.
 */
export function writeFileAtomic(dir: string, name: string, bytes: Uint8Array): void {
  const path = join(dir, name);
  const tmp = `${path}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    fchmodSync(fd, 0o600); // a leftover .tmp keeps its old mode through open(2)
    writeSync(fd, bytes);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  syncDirectory(dir);
}

export function syncDirectory(dir: string): void {
  const dirFd = openSync(dir, "r");
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}
