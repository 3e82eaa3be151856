// The consensus record on disk: <dataDir>/consensus.wal, replaced atomically (write a temporary
// file, fsync it, rename over the old one, fsync the directory), so a kill -9 at any instant
// leaves either the previous record or the new one, whole.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { WalStore } from "./wal.ts";

export const walFileName = "consensus.wal";

export class FileWalStore implements WalStore {
  readonly path: string;
  private readonly tmp: string;
  writes = 0;

  constructor(readonly dataDir: string) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, walFileName);
    this.tmp = `${this.path}.tmp`;
  }

  load(): Uint8Array | undefined {
    try {
      return new Uint8Array(readFileSync(this.path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw e;
    }
  }

  save(bytes: Uint8Array): void {
    const fd = openSync(this.tmp, "w", 0o600);
    try {
      writeSync(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(this.tmp, this.path);
    const dir = openSync(this.dataDir, "r");
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
    this.writes++;
  }
}
