// Serving side of a snapshot join: a consistent online copy of this gateway's chain store
// (SQLite's backup API through better-sqlite3 `db.backup`: pages copied while commits go on, the copy
// is one point in time). Only chain.sqlite is copied: the node's key, outbox, pending store and
// consensus WAL are other files and never leave. The copy is a temporary file in the data directory
// (same disk as the store, so it needs no other space), streamed, then removed. One at a time, and at
// most one per `intervalMinMs`: a backup reads the whole file.
import { readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ChainStore } from "../storage/chain-store.ts";
import { SnapshotError } from "./errors.ts";

export interface SnapshotServeOptions {
  /** Least time between the starts of two snapshots. */
  intervalMinMs: number;
}

export const snapshotServeDefaults: SnapshotServeOptions = { intervalMinMs: 10_000 };

const tempPrefix = "snapshot-";
const tempSuffix = ".sqlite.tmp";

export interface TakenSnapshot {
  path: string;
  bytes: number;
  /** The store's tip when the copy started: the copy holds at least this height. */
  heightMin: number;
  /** Removes the temporary file; call once the stream closed. */
  release(): void;
}

export class SnapshotServer {
  private busy = false;
  private lastStartMs = -Infinity;
  private readonly dataDir: string | undefined;

  constructor(
    private readonly store: ChainStore,
    private readonly options: SnapshotServeOptions = snapshotServeDefaults,
    private readonly clock: () => number = Date.now,
  ) {
    this.dataDir = store.path === ":memory:" ? undefined : dirname(store.path);
    // Copies left by a process that stopped while taking or streaming one (with a journal, if mid-backup).
    if (this.dataDir) for (const f of readdirSync(this.dataDir)) if (f.startsWith(tempPrefix) && f.includes(tempSuffix)) rmSync(join(this.dataDir, f), { force: true });
  }

  async take(): Promise<TakenSnapshot> {
    if (!this.dataDir) throw new SnapshotError("SNAPSHOT_UNAVAILABLE", "this gateway's chain is in memory, not in a file: join from another peer");
    if (this.busy) throw new SnapshotError("SNAPSHOT_BUSY", "another snapshot is being copied or sent; retry in a minute");
    const nowMs = this.clock();
    if (nowMs - this.lastStartMs < this.options.intervalMinMs) throw new SnapshotError("SNAPSHOT_RATE", `one snapshot per ${this.options.intervalMinMs / 1000} s; retry later`);
    this.busy = true;
    this.lastStartMs = nowMs;
    const path = join(this.dataDir, `${tempPrefix}${process.pid}-${nowMs}${tempSuffix}`);
    const release = () => {
      rmSync(path, { force: true });
      this.busy = false;
    };
    try {
      const heightMin = this.store.tip()?.height ?? 0;
      await this.store.db.backup(path);
      return { path, bytes: statSync(path).size, heightMin, release };
    } catch (e) {
      release();
      throw e;
    }
  }

}
