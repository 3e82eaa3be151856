// Derived indexes: transactions by block and by account, readings by device, time and block.
// They are written in the block's own SQLite transaction (chain-store.ts) and can be rebuilt from
// block bodies; queries here are bounded by an explicit row limit.
import type Database from "better-sqlite3";
import { ContractIndex } from "./contract-index.ts";
import { ReadingKeys } from "./reading-keys.ts";
import { readingsIndexSql, type IndexRows } from "./schema.ts";

/** Most rows one index query returns. */
export const indexRowsMax = 10_000;

export interface ReadingRow {
  deviceId: Uint8Array;
  sequence: number;
  receivedAtMs: number;
  height: number;
  txIndex: number;
  position: number;
  gatewayId: Uint8Array;
  digest: Uint8Array;
  /** Position in the device's log (gateway/chain/device-log.ts): the order readings reached the chain. */
  logIndex: number;
}

type RawReading = { device: Buffer; seq: number; received_ms: number; height: number; tx_idx: number; pos: number; gateway: Buffer; digest: Buffer; log_idx: number };

const toRow = (r: RawReading): ReadingRow => ({
  deviceId: new Uint8Array(r.device),
  sequence: r.seq,
  receivedAtMs: r.received_ms,
  height: r.height,
  txIndex: r.tx_idx,
  position: r.pos,
  gatewayId: new Uint8Array(r.gateway),
  digest: new Uint8Array(r.digest),
  logIndex: r.log_idx,
});

export class IndexWriter {
  private readonly q;
  /** Contract runs, events and totals (contract-index.ts). */
  readonly contracts: ContractIndex;
  /** The device-keyed trees of readings (schema 7): written and merged here, read through device_readings. */
  readonly keys: ReadingKeys;
  constructor(db: Database.Database) {
    this.contracts = new ContractIndex(db);
    this.keys = new ReadingKeys(db);
    this.q = {
      putTx: db.prepare("INSERT INTO txs (id, height, idx, kind, author, counterparty) VALUES (?, ?, ?, ?, ?, ?)"),
      putReading: db.prepare("INSERT INTO readings (device, seq, received_ms, height, tx_idx, pos, gateway, digest, log_idx) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"),
      clearTxs: db.prepare("DELETE FROM txs WHERE height = ?"),
      // OR REPLACE: a rebuild over rows a test or a tool left behind still lands (a place in the chain never changes its reading).
      putValue: db.prepare("INSERT OR REPLACE INTO reading_values (height, tx_idx, pos, rec, name, unit, value, string_value, bool_value, time_s) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
      clearReadings: db.prepare("DELETE FROM readings WHERE height = ?"),
      clearValues: db.prepare("DELETE FROM reading_values WHERE height = ?"),
      readingsByDevice: db.prepare<[Buffer, number, number, number], RawReading>(
        "SELECT * FROM device_readings WHERE device = ? AND received_ms >= ? AND received_ms <= ? ORDER BY received_ms, seq LIMIT ?",
      ),
      readingsByBlock: db.prepare<[number, number], RawReading>("SELECT * FROM readings WHERE height = ? ORDER BY tx_idx, pos LIMIT ?"),
      txsByAccount: db.prepare<[Buffer, Buffer, number], { id: Buffer; height: number; idx: number; kind: number }>(
        "SELECT id, height, idx, kind FROM txs WHERE author = ? UNION ALL SELECT id, height, idx, kind FROM txs WHERE counterparty = ? ORDER BY height DESC, idx DESC LIMIT ?",
      ),
      txById: db.prepare<[Buffer], { height: number; idx: number; kind: number }>("SELECT height, idx, kind FROM txs WHERE id = ?"),
      readingCount: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM readings"),
      deviceReadingCount: db.prepare<[Buffer], { n: number }>("SELECT count(*) AS n FROM device_readings WHERE device = ?"),
      reading: db.prepare<[Buffer, number], RawReading>("SELECT * FROM device_readings WHERE device = ? AND seq = ?"),
      readingDigest: db.prepare<[Uint8Array, number], { digest: Buffer }>("SELECT digest FROM device_readings WHERE device = ? AND seq = ?"),
    };
  }

  write(height: number, rows: IndexRows): void {
    for (const t of rows.txs) this.q.putTx.run(t.id, height, t.idx, t.kind, t.author, t.counterparty);
    // In block order, the table's key order: appended at its end. The device-keyed entries go to
    // reading-keys.ts, which merges them into the big trees a shard at a time.
    for (const r of rows.readings) this.q.putReading.run(r.deviceId, r.sequence, r.receivedAtMs, height, r.txIndex, r.position, r.gatewayId, r.digest, r.logIndex);
    this.keys.write(height, rows.readings);
    // Values in block order, their key's order: appended at the end of reading_values.
    for (const r of rows.readings) {
      r.records.forEach((v, rec) => this.q.putValue.run(height, r.txIndex, r.position, rec, v.name, v.unit ?? null, v.value ?? null, v.stringValue ?? null, v.boolValue === undefined ? null : v.boolValue ? 1 : 0, v.time ?? null));
    }
    this.contracts.write(height, rows.contracts);
  }

  clear(height: number): void {
    this.q.clearTxs.run(height);
    this.q.clearValues.run(height);
    // Before the readings rows: the merged keys are found through them.
    this.keys.clear(height);
    this.q.clearReadings.run(height);
    this.contracts.clear(height);
  }

  readingsByDevice(deviceId: Uint8Array, fromMs = 0, toMs = Number.MAX_SAFE_INTEGER, limit = indexRowsMax): ReadingRow[] {
    return this.q.readingsByDevice.all(Buffer.from(deviceId), fromMs, toMs, Math.min(limit, indexRowsMax)).map(toRow);
  }

  readingsByBlock(height: number, limit = indexRowsMax): ReadingRow[] {
    return this.q.readingsByBlock.all(height, Math.min(limit, indexRowsMax)).map(toRow);
  }

  txsByAccount(accountId: Uint8Array, limit = 100): { id: Uint8Array; height: number; idx: number; kind: number }[] {
    const b = Buffer.from(accountId);
    return this.q.txsByAccount.all(b, b, Math.min(limit, indexRowsMax)).map((r) => ({ id: new Uint8Array(r.id), height: r.height, idx: r.idx, kind: r.kind }));
  }

  txById(id: Uint8Array): { height: number; idx: number; kind: number } | undefined {
    return this.q.txById.get(Buffer.from(id));
  }

  /** A device's reading by sequence, with its position in the device's log. */
  reading(deviceId: Uint8Array, sequence: number): ReadingRow | undefined {
    const r = this.q.reading.get(Buffer.from(deviceId), sequence);
    return r ? toRow(r) : undefined;
  }

  readingDigest(deviceId: Uint8Array, sequence: number): Uint8Array | undefined {
    const r = this.q.readingDigest.get(deviceId, sequence);
    return r ? new Uint8Array(r.digest) : undefined;
  }

  /** Readings of the device on chain: the size of its log. */
  deviceReadingCount(deviceId: Uint8Array): number {
    return this.q.deviceReadingCount.get(Buffer.from(deviceId))!.n;
  }

  readingCount(): number {
    return this.q.readingCount.get()!.n;
  }
}

/**
 * Schema 2 to 5's readings (keyed device, seq) rewritten keyed by place (height, tx_idx, pos), in
 * place, with the indexes of readingsIndexSql; run inside the migration's transaction. Returns how
 * many rows were moved.
 */
export function migrateReadingRows(db: Database.Database): number {
  const pk = db.prepare<[], { name: string; pk: number }>("PRAGMA table_info(readings)").all().filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
  if (pk[0] === "height") {
    db.exec(readingsIndexSql);
    return 0;
  }
  // The old table's indexes (readings_by_time, _by_log, _by_block) go with it.
  db.exec(`ALTER TABLE readings RENAME TO readings_v5;
CREATE TABLE readings (device BLOB NOT NULL, seq INTEGER NOT NULL, received_ms INTEGER NOT NULL, height INTEGER NOT NULL, tx_idx INTEGER NOT NULL, pos INTEGER NOT NULL, gateway BLOB NOT NULL, digest BLOB NOT NULL, log_idx INTEGER NOT NULL, PRIMARY KEY (height, tx_idx, pos)) WITHOUT ROWID;`);
  const moved = db
    .prepare("INSERT INTO readings (device, seq, received_ms, height, tx_idx, pos, gateway, digest, log_idx) SELECT device, seq, received_ms, height, tx_idx, pos, gateway, digest, log_idx FROM readings_v5 ORDER BY height, tx_idx, pos")
    .run().changes;
  db.exec("DROP TABLE readings_v5");
  db.exec(readingsIndexSql);
  return moved;
}

/**
 * Schema 4 and 5's reading_values (keyed device, seq, rec) rewritten keyed by place (height,
 * tx_idx, pos, rec), in place; run inside the migration's transaction, after migrateReadingRows.
 * The place comes from the reading's readings row, which a value always has
 * (both are written, cleared and rebuilt together); `complete` is false when some value had none
 * (rows a tool left behind), and the caller rebuilds the readings index from the block bodies.
 */
export function migrateValueRows(db: Database.Database): { moved: number; complete: boolean } {
  const columns = db.prepare<[], { name: string }>("PRAGMA table_info(reading_values)").all().map((c) => c.name);
  if (!columns.includes("device")) return { moved: 0, complete: true };
  db.exec(`ALTER TABLE reading_values RENAME TO reading_values_v5;
CREATE TABLE reading_values (height INTEGER NOT NULL, tx_idx INTEGER NOT NULL, pos INTEGER NOT NULL, rec INTEGER NOT NULL, name TEXT NOT NULL, unit TEXT, value REAL, string_value TEXT, bool_value INTEGER, time_s REAL, PRIMARY KEY (height, tx_idx, pos, rec)) WITHOUT ROWID;`);
  const moved = db
    .prepare(
      `INSERT INTO reading_values (height, tx_idx, pos, rec, name, unit, value, string_value, bool_value, time_s)
       SELECT r.height, r.tx_idx, r.pos, v.rec, v.name, v.unit, v.value, v.string_value, v.bool_value, v.time_s
       FROM reading_values_v5 v JOIN readings r ON r.device = v.device AND r.seq = v.seq ORDER BY r.height, r.tx_idx, r.pos, v.rec`,
    )
    .run().changes;
  const before = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM reading_values_v5").get()!.n;
  db.exec("DROP TABLE reading_values_v5");
  return { moved, complete: moved === before };
}
