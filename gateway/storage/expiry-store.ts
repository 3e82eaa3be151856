// Expiry's local tables in chain.sqlite (gateway/chain/expiry.ts decides what to prune; this file
// writes it). Nothing here is consensus state: pruning never changes a state root.
//
//   expiry_cursor(device, log_idx)  readings of `device` with log_idx < this cursor are pruned (a
//                                    device's log is in chain order, so expired readings are always a
//                                    prefix of it: one row per device, never per reading)
//   pruned_blocks(height, version)   how many times a block's body was rewritten (0: never)
//
// Space (docs/expiry.md): new files use auto_vacuum=INCREMENTAL (chain-store.ts, set before any table
// exists); deleted rows and shrunk bodies leave free pages that SQLite reuses for new rows, so under
// steady load the file stops growing; a freelist above a quarter of the file (after a retention was
// shortened) is handed back to the OS a bounded number of pages per pass.
import type Database from "better-sqlite3";

export const expirySchemaSql = `
CREATE TABLE IF NOT EXISTS expiry_cursor (
  device BLOB PRIMARY KEY,
  log_idx INTEGER NOT NULL
) WITHOUT ROWID;
-- Blocks whose body was rewritten, with how many times: readers key their caches by it, and a pruned
-- block is known without decoding its body. One row per pruned block, not per reading.
CREATE TABLE IF NOT EXISTS pruned_blocks (
  height INTEGER PRIMARY KEY,
  version INTEGER NOT NULL
);
`;

/** Pages handed back to the OS per pass at most (4 KiB each). */
export const vacuumPagesPerPass = 256;

export interface ExpiringReading {
  sequence: number;
  height: number;
  txIndex: number;
  position: number;
  logIndex: number;
}

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export class ExpiryStore {
  private readonly q;
  private deviceAfter = "device/";

  constructor(private readonly db: Database.Database) {
    if (!db.readonly) db.exec(expirySchemaSql);
    this.q = {
      cursor: db.prepare<[Uint8Array], { log_idx: number }>("SELECT log_idx FROM expiry_cursor WHERE device = ?"),
      setCursor: db.prepare("INSERT INTO expiry_cursor (device, log_idx) VALUES (?, ?) ON CONFLICT (device) DO UPDATE SET log_idx = excluded.log_idx"),
      deviceCount: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM state WHERE key > 'device/' AND key < 'device0'"),
      devicesAfter: db.prepare<[string, number], { key: string; value: Buffer }>("SELECT key, value FROM state WHERE key > ? AND key < 'device0' ORDER BY key LIMIT ?"),
      readingsFrom: db.prepare<[Uint8Array, number, number], { seq: number; height: number; tx_idx: number; pos: number; log_idx: number }>(
        "SELECT seq, height, tx_idx, pos, log_idx FROM device_readings WHERE device = ? AND log_idx >= ? ORDER BY log_idx LIMIT ?",
      ),
      blockTime: db.prepare<[number], { time_ms: number }>("SELECT time_ms FROM blocks WHERE height = ?"),
      body: db.prepare<[number], { body: Buffer; results: Buffer }>("SELECT body, results FROM blocks WHERE height = ?"),
      setBody: db.prepare("UPDATE blocks SET body = ? WHERE height = ?"),
      bumpVersion: db.prepare("INSERT INTO pruned_blocks (height, version) VALUES (?, 1) ON CONFLICT (height) DO UPDATE SET version = version + 1"),
      version: db.prepare<[number], { version: number }>("SELECT version FROM pruned_blocks WHERE height = ?"),
      // A reading's values are keyed by its place in the chain (schema 6): found through device_readings.
      delValues: db.prepare("DELETE FROM reading_values WHERE (height, tx_idx, pos) IN (SELECT height, tx_idx, pos FROM device_readings WHERE device = ? AND seq = ?)"),
    };
  }

  /** Log index below which the device's readings are pruned (0: none). */
  cursor(deviceId: Uint8Array): number {
    return this.q.cursor.get(deviceId)?.log_idx ?? 0;
  }

  setCursor(deviceId: Uint8Array, logIndex: number): void {
    this.q.setCursor.run(deviceId, logIndex);
  }

  /**
   * The next `n` device records after the round-robin position, wrapping to the first. The position is
   * kept in memory only: after a restart the round starts again from the first device (no extra write
   * per commit).
   */
  nextDevices(n: number): { key: string; value: Uint8Array }[] {
    const after = this.deviceAfter;
    let rows = this.q.devicesAfter.all(after, n);
    if (rows.length < n && after !== "device/") rows = rows.concat(this.q.devicesAfter.all("device/", n - rows.length).filter((r) => r.key <= after));
    return rows.map((r) => ({ key: r.key, value: u8(r.value) }));
  }

  /** The round-robin resumes after `key` (the last device a slice visited). */
  visited(key: string): void {
    this.deviceAfter = key;
  }

  deviceCount(): number {
    return this.q.deviceCount.get()!.n;
  }

  /** The device's readings from log index `from` on, in log order. */
  readingsFrom(deviceId: Uint8Array, from: number, limit: number): ExpiringReading[] {
    return this.q.readingsFrom.all(deviceId, from, limit).map((r) => ({ sequence: r.seq, height: r.height, txIndex: r.tx_idx, position: r.pos, logIndex: r.log_idx }));
  }

  blockTimeMs(height: number): number | undefined {
    return this.q.blockTime.get(height)?.time_ms;
  }

  /** Highest height whose block time is at most `ms` (block times strictly increase), or -1. */
  heightAtOrBefore(ms: number, tipHeight: number): number {
    let lo = 0;
    let hi = tipHeight;
    if ((this.blockTimeMs(0) ?? Infinity) > ms) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.blockTimeMs(mid)! <= ms) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  storedBody(height: number): { body: Uint8Array; results: Uint8Array } | undefined {
    const r = this.q.body.get(height);
    return r ? { body: u8(r.body), results: u8(r.results) } : undefined;
  }

  setBody(height: number, body: Uint8Array): void {
    this.q.setBody.run(body, height);
    this.q.bumpVersion.run(height);
  }

  /** How many times the block's body was pruned (0: it is as committed). */
  bodyVersion(height: number): number {
    return this.q.version.get(height)?.version ?? 0;
  }

  deleteValues(deviceId: Uint8Array, sequence: number): void {
    this.q.delValues.run(deviceId, sequence);
  }

  transaction(fn: () => void): void {
    this.db.transaction(fn)();
  }

  /** Gives free pages back to the OS when they are over a quarter of the file (auto_vacuum=INCREMENTAL files only). */
  reclaim(): number {
    if (this.db.pragma("auto_vacuum", { simple: true }) !== 2) return 0;
    const free = this.db.pragma("freelist_count", { simple: true }) as number;
    const pages = this.db.pragma("page_count", { simple: true }) as number;
    if (free * 4 <= pages) return 0;
    this.db.pragma(`incremental_vacuum(${vacuumPagesPerPass})`);
    return Math.min(free, vacuumPagesPerPass);
  }
}
