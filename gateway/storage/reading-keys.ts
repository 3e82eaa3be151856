// The device-keyed trees of the readings index (storage schema 7, schema.ts): owner of "every
// reading is in exactly one of readings_recent and readings_merged, found by device through the
// device_readings view". A block's readings go to readings_recent, appended per shard; at height h
// the recent rows of shard h mod readingShards are moved to readings_merged, so a device's entries
// are written into the big trees once every readingShards blocks, together, and each commit merges
// a slice of the same size (no merge storm). Derived data: the merge depends only on the height, so
// a store rebuilt, recovered or restarted resumes it with no state of its own.
// One reading per (device, seq) is execution's guarantee (apply-readings.ts looks each up through
// device_readings first); here readings_recent_by_seq and readings_merged's key refuse a duplicate
// within each, and one across them fails its shard's merge, so the commit, not a query, reports it.
import type Database from "better-sqlite3";
import { toLatin1 } from "../../shared/ed25519.ts";
import { storageAssert } from "./errors.ts";
import { deviceReadingsViewSql, readingShards, readingsIndexSql } from "./schema.ts";

export interface KeyRow {
  deviceId: Uint8Array;
  sequence: number;
  receivedAtMs: number;
  txIndex: number;
  position: number;
  logIndex: number;
}

const allShards = Array.from({ length: readingShards }, (_, s) => s).join(", ");

export class ReadingKeys {
  private readonly q;

  constructor(db: Database.Database) {
    this.q = {
      addDevice: db.prepare("INSERT INTO reading_devices (device) VALUES (?)"),
      deviceNum: db.prepare<[Uint8Array], { num: number }>("SELECT num FROM reading_devices WHERE device = ?"),
      putRecent: db.prepare("INSERT INTO readings_recent (shard, height, tx_idx, pos, num, seq, received_ms, log_idx) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
      // In (num, seq) order: a device's entries are adjacent, each tree's inserts walk it once.
      merge: db.prepare("INSERT INTO readings_merged (num, seq, received_ms, log_idx, height, tx_idx, pos) SELECT num, seq, received_ms, log_idx, height, tx_idx, pos FROM readings_recent WHERE shard = ? ORDER BY num, seq"),
      dropMerged: db.prepare("DELETE FROM readings_recent WHERE shard = ?"),
      // Through the block's readings rows: an index of readings_merged by place would cost ~150 pages
      // per block at scale (a merge writes 16 heights' worth, interleaved with other shards').
      clearMerged: db.prepare(
        "DELETE FROM readings_merged WHERE (num, seq) IN (SELECT d.num, r.seq FROM readings r JOIN reading_devices d ON d.device = r.device WHERE r.height = ?) AND height = ?",
      ),
      // Every shard named, so the delete searches the key (shard, height, ...) once per shard instead of scanning.
      clearRecent: db.prepare(`DELETE FROM readings_recent WHERE shard IN (${allShards}) AND height = ?`),
      // Recovery only (clearAbove): scans, once, where the index lags the tip.
      clearMergedAbove: db.prepare("DELETE FROM readings_merged WHERE height > ?"),
      clearRecentAbove: db.prepare("DELETE FROM readings_recent WHERE height > ?"),
      recentCount: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM readings_recent"),
    };
  }

  /** A device's number in the device-keyed trees, given on its first reading. */
  private num(deviceId: Uint8Array): number {
    const known = this.q.deviceNum.get(deviceId);
    if (known) return known.num;
    // num is the rowid: the insert says it.
    return Number(this.q.addDevice.run(deviceId).lastInsertRowid);
  }

  /** Block `height`'s readings (its readings rows already written), then this height's merge. */
  write(height: number, rows: readonly KeyRow[]): void {
    const nums = new Map<string, number>();
    const keyed = rows.map((r) => {
      const id = toLatin1(r.deviceId);
      let num = nums.get(id);
      if (num === undefined) nums.set(id, (num = this.num(r.deviceId)));
      return { r, num, shard: num % readingShards };
    });
    // In key order (shard, place): one append run per shard.
    keyed.sort((a, b) => a.shard - b.shard || a.r.txIndex - b.r.txIndex || a.r.position - b.r.position);
    for (const { r, num, shard } of keyed) this.q.putRecent.run(shard, height, r.txIndex, r.position, num, r.sequence, r.receivedAtMs, r.logIndex);
    const shard = height % readingShards;
    const merged = this.q.merge.run(shard).changes;
    const dropped = this.q.dropMerged.run(shard).changes;
    storageAssert(merged === dropped, `height ${height}: merged ${merged} readings of shard ${shard} but removed ${dropped} from readings_recent`);
  }

  /** Undoes block `height`'s entries, wherever they are; before its readings rows are deleted (index-writer.ts clear). */
  clear(height: number): void {
    this.q.clearMerged.run(height, height);
    this.q.clearRecent.run(height);
  }

  /**
   * Every entry of blocks above `height`, by height alone: before the index is rebuilt above it
   * (chain-store.ts rebuildIndexes), whose readings rows, through which clear finds a block's merged
   * entries, may be gone. A scan of readings_merged: for that recovery path only.
   */
  clearAbove(height: number): void {
    this.q.clearMergedAbove.run(height);
    this.q.clearRecentAbove.run(height);
  }

  /** Readings not merged yet (at most readingShards blocks' worth). */
  recentCount(): number {
    return this.q.recentCount.get()!.n;
  }
}

/**
 * Schema 7's step of the migration (chain-store.ts checkSchema), inside its transaction, after the
 * older steps: every stored reading goes to readings_merged (numbered devices in id order), the
 * schema-6 indexes of readings are dropped. Rebuilds the trees from readings whatever they held,
 * so it also serves a readings table that an earlier step emptied. Returns the rows merged.
 */
export function migrateReadingKeys(db: Database.Database): number {
  db.exec("DELETE FROM readings_recent; DELETE FROM readings_merged; DELETE FROM reading_devices;");
  // checkSchema dropped the view for the older steps' renames.
  db.exec(`DROP VIEW IF EXISTS device_readings; ${deviceReadingsViewSql}`);
  // The schema 2-5 steps made these to find rows (migrateReadingRows); harmless if absent.
  for (const m of readingsIndexSql.matchAll(/INDEX IF NOT EXISTS (\w+)/g)) db.exec(`DROP INDEX IF EXISTS ${m[1]}`);
  db.exec("INSERT INTO reading_devices (device) SELECT DISTINCT device FROM readings ORDER BY device");
  const merged = db
    .prepare(
      `INSERT INTO readings_merged (num, seq, received_ms, log_idx, height, tx_idx, pos)
       SELECT d.num, r.seq, r.received_ms, r.log_idx, r.height, r.tx_idx, r.pos FROM readings r JOIN reading_devices d ON d.device = r.device ORDER BY d.num, r.seq`,
    )
    .run().changes;
  const stored = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM readings").get()!.n;
  storageAssert(merged === stored, `schema 7 migration merged ${merged} of ${stored} readings: the readings table is inconsistent`);
  return merged;
}
