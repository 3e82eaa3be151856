// Derived indexes: transactions by block and by account, readings by device, time and block.
// They are written in the block's own SQLite transaction (chain-store.ts) and can be rebuilt from
// block bodies; queries here are bounded by an explicit row limit.
import type Database from "better-sqlite3";
import type { IndexRows } from "./schema.ts";

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
}

type RawReading = { device: Buffer; seq: number; received_ms: number; height: number; tx_idx: number; pos: number; gateway: Buffer; digest: Buffer };

const toRow = (r: RawReading): ReadingRow => ({
  deviceId: new Uint8Array(r.device),
  sequence: r.seq,
  receivedAtMs: r.received_ms,
  height: r.height,
  txIndex: r.tx_idx,
  position: r.pos,
  gatewayId: new Uint8Array(r.gateway),
  digest: new Uint8Array(r.digest),
});

export class IndexWriter {
  private readonly q;
  constructor(db: Database.Database) {
    this.q = {
      putTx: db.prepare("INSERT INTO txs (id, height, idx, kind, author, counterparty) VALUES (?, ?, ?, ?, ?, ?)"),
      putReading: db.prepare("INSERT INTO readings (device, seq, received_ms, height, tx_idx, pos, gateway, digest) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
      clearTxs: db.prepare("DELETE FROM txs WHERE height = ?"),
      clearReadings: db.prepare("DELETE FROM readings WHERE height = ?"),
      readingsByDevice: db.prepare<[Buffer, number, number, number], RawReading>(
        "SELECT * FROM readings WHERE device = ? AND received_ms >= ? AND received_ms <= ? ORDER BY received_ms, seq LIMIT ?",
      ),
      readingsByBlock: db.prepare<[number, number], RawReading>("SELECT * FROM readings WHERE height = ? ORDER BY tx_idx, pos LIMIT ?"),
      txsByAccount: db.prepare<[Buffer, Buffer, number], { id: Buffer; height: number; idx: number; kind: number }>(
        "SELECT id, height, idx, kind FROM txs WHERE author = ? UNION ALL SELECT id, height, idx, kind FROM txs WHERE counterparty = ? ORDER BY height DESC, idx DESC LIMIT ?",
      ),
      txById: db.prepare<[Buffer], { height: number; idx: number; kind: number }>("SELECT height, idx, kind FROM txs WHERE id = ?"),
      readingCount: db.prepare<[], { n: number }>("SELECT count(*) AS n FROM readings"),
      readingRank: db.prepare<[Buffer, number], { n: number }>("SELECT count(*) AS n FROM readings WHERE device = ? AND seq < ?"),
      reading: db.prepare<[Buffer, number], RawReading>("SELECT * FROM readings WHERE device = ? AND seq = ?"),
      readingBelow: db.prepare<[Buffer, number], RawReading>("SELECT * FROM readings WHERE device = ? AND seq < ? ORDER BY seq DESC LIMIT 1"),
      readingAbove: db.prepare<[Buffer, number], RawReading>("SELECT * FROM readings WHERE device = ? AND seq > ? ORDER BY seq LIMIT 1"),
    };
  }

  write(height: number, rows: IndexRows): void {
    for (const t of rows.txs) this.q.putTx.run(t.id, height, t.idx, t.kind, t.author, t.counterparty);
    for (const r of rows.readings) this.q.putReading.run(r.deviceId, r.sequence, r.receivedAtMs, height, r.txIndex, r.position, r.gatewayId, r.digest);
  }

  clear(height: number): void {
    this.q.clearTxs.run(height);
    this.q.clearReadings.run(height);
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

  /** A device's reading by sequence, with its position in the device's log (readings below it). */
  reading(deviceId: Uint8Array, sequence: number): (ReadingRow & { logIndex: number }) | undefined {
    const r = this.q.reading.get(Buffer.from(deviceId), sequence);
    return r ? { ...toRow(r), logIndex: this.q.readingRank.get(Buffer.from(deviceId), sequence)!.n } : undefined;
  }

  /** The device's readings just below and just above `sequence`, with their log positions. */
  readingNeighbours(deviceId: Uint8Array, sequence: number): { below?: ReadingRow & { logIndex: number }; above?: ReadingRow & { logIndex: number } } {
    const d = Buffer.from(deviceId);
    const below = this.q.readingBelow.get(d, sequence);
    const above = this.q.readingAbove.get(d, sequence);
    const rank = this.q.readingRank.get(d, sequence)!.n; // readings below `sequence`
    return {
      below: below ? { ...toRow(below), logIndex: rank - 1 } : undefined,
      above: above ? { ...toRow(above), logIndex: rank } : undefined,
    };
  }

  readingCount(): number {
    return this.q.readingCount.get()!.n;
  }
}
