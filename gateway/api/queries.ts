// Read-only SQL the API needs beyond ChainStore's own methods, over the store's database handle
// (gateway/storage/schema.ts). Nothing here writes. Every query is bounded by an explicit row
// limit and runs on an index, so a request costs at most `limit` index steps; each is timed
// into the SQLite histogram (metrics).
import type Database from "better-sqlite3";
import { txKinds, type TxKind } from "../../shared/tx-body.ts";
import type { ChainStore } from "../storage/chain-store.ts";
import type { ContractEventRow, ContractIndex, EventPlace } from "../storage/contract-index.ts";
import type { ReadingRow } from "../storage/index-writer.ts";

export interface BlockRow {
  height: number;
  hash: Uint8Array;
  timeMs: number;
  header: Uint8Array;
  bodyBytes: number;
  hasCertificate: boolean;
  txs: number;
  readings: number;
}

/** A row of the chain's readings index, as the storage layer defines it. */
export type ReadingIndexRow = ReadingRow;

/** Transactions that can change a device's status, by kind number (shared/tx-body.ts). */
export const deviceStatusTxKinds: ReadonlyMap<number, TxKind> = new Map((["revokeDevice", "reportDevice", "liftQuarantine"] as const).map((k) => [txKinds[k], k]));

export interface DeviceTxRow {
  txId: Uint8Array;
  kind: number;
  deviceId: Uint8Array;
}

export interface TxRow {
  id: Uint8Array;
  height: number;
  index: number;
  kind: number;
  author: Uint8Array;
}

type RawBlock = { height: number; hash: Buffer; time_ms: number; header: Buffer; body_bytes: number; has_cert: number; txs: number; readings: number };
type RawReading = { device: Buffer; seq: number; received_ms: number; height: number; tx_idx: number; pos: number; gateway: Buffer; digest: Buffer; log_idx: number };
type RawTx = { id: Buffer; height: number; idx: number; kind: number; author: Buffer };

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

const blockColumns = `height, hash, time_ms, header, length(body) AS body_bytes, certificate IS NOT NULL AS has_cert,
  (SELECT count(*) FROM txs WHERE txs.height = blocks.height) AS txs,
  (SELECT count(*) FROM readings WHERE readings.height = blocks.height) AS readings`;

const toBlock = (r: RawBlock): BlockRow => ({ height: r.height, hash: u8(r.hash), timeMs: r.time_ms, header: u8(r.header), bodyBytes: r.body_bytes, hasCertificate: r.has_cert === 1, txs: r.txs, readings: r.readings });
const toReading = (r: RawReading): ReadingIndexRow => ({
  deviceId: u8(r.device),
  sequence: r.seq,
  receivedAtMs: r.received_ms,
  height: r.height,
  txIndex: r.tx_idx,
  position: r.pos,
  gatewayId: u8(r.gateway),
  digest: u8(r.digest),
  logIndex: r.log_idx,
});
const toTx = (r: RawTx): TxRow => ({ id: u8(r.id), height: r.height, index: r.idx, kind: r.kind, author: u8(r.author) });

// State keys are "device/<32 hex>"; "device0" is the first string above every one of them ('0' = '/' + 1).
const deviceKeyFirst = "device/";
const deviceKeyEnd = "device0";
// Contract records are "contract/<32 hex>"; a contract's storage "contract/<id>/s/<key hex>" sorts
// right after its record and before "contract/<id>0", where the next contract's keys may start.
const contractKeyFirst = "contract/";
const contractKeyEnd = "contract0";
const contractKeyLength = contractKeyFirst.length + 32;
const storageKeyFirst = (idHex: string) => `contract/${idHex}/s/`;
const storageKeyEnd = (idHex: string) => `contract/${idHex}/s0`;

export type Timer = <T>(query: string, fn: () => T) => T;

export class ChainQueries {
  private readonly q;
  private readonly contractIndex: ContractIndex;

  constructor(
    store: ChainStore,
    private readonly time: Timer = (_q, fn) => fn(),
  ) {
    const db: Database.Database = store.db;
    this.contractIndex = store.indexes.contracts;
    this.q = {
      nextStateKey: db.prepare<[string, string], { key: string }>("SELECT key FROM state WHERE key >= ? AND key < ? ORDER BY key LIMIT 1"),
      blocksAsc: db.prepare<[number, number, number], RawBlock>(`SELECT ${blockColumns} FROM blocks WHERE height >= ? AND height <= ? ORDER BY height ASC LIMIT ?`),
      blocksDesc: db.prepare<[number, number, number], RawBlock>(`SELECT ${blockColumns} FROM blocks WHERE height >= ? AND height <= ? ORDER BY height DESC LIMIT ?`),
      heightByHash: db.prepare<[Buffer], { height: number }>("SELECT height FROM blocks WHERE hash = ?"),
      txsOfBlock: db.prepare<[number, number, number], RawTx>("SELECT id, height, idx, kind, author FROM txs WHERE height = ? AND idx >= ? ORDER BY idx LIMIT ?"),
      txById: db.prepare<[Buffer], RawTx>("SELECT id, height, idx, kind, author FROM txs WHERE id = ?"),
      deviceTxsOfBlock: db.prepare<[number], { id: Buffer; kind: number; counterparty: Buffer }>(
        `SELECT id, kind, counterparty FROM txs WHERE height = ? AND kind IN (${[...deviceStatusTxKinds.keys()].join(", ")}) AND counterparty IS NOT NULL ORDER BY idx`,
      ),
      readingsAsc: db.prepare<[Buffer, number, number, number, number, number], RawReading>(
        "SELECT * FROM device_readings WHERE device = ? AND (received_ms, seq) > (?, ?) AND received_ms >= ? AND received_ms <= ? ORDER BY received_ms ASC, seq ASC LIMIT ?",
      ),
      readingsDesc: db.prepare<[Buffer, number, number, number, number, number], RawReading>(
        "SELECT * FROM device_readings WHERE device = ? AND (received_ms, seq) < (?, ?) AND received_ms >= ? AND received_ms <= ? ORDER BY received_ms DESC, seq DESC LIMIT ?",
      ),
      reading: db.prepare<[Buffer, number], RawReading>("SELECT * FROM device_readings WHERE device = ? AND seq = ?"),
      lastReading: db.prepare<[Buffer], RawReading>("SELECT * FROM device_readings WHERE device = ? ORDER BY received_ms DESC, seq DESC LIMIT 1"),
      readingsOfBlock: db.prepare<[number, number], RawReading>("SELECT * FROM readings WHERE height = ? ORDER BY tx_idx, pos LIMIT ?"),
      devices: db.prepare<[string, string, number], { key: string; value: Buffer }>("SELECT key, value FROM state WHERE key > ? AND key < ? ORDER BY key LIMIT ?"),
    };
  }

  /** Blocks with heights in [from, to], `limit` at most, in `order`. */
  blocks(from: number, to: number, limit: number, order: "asc" | "desc"): BlockRow[] {
    const stmt = order === "asc" ? this.q.blocksAsc : this.q.blocksDesc;
    return this.time("blocks_range", () => stmt.all(from, to, limit)).map(toBlock);
  }

  heightOfHash(hash: Uint8Array): number | undefined {
    return this.time("block_by_hash", () => this.q.heightByHash.get(Buffer.from(hash)))?.height;
  }

  txsOfBlock(height: number, fromIndex: number, limit: number): TxRow[] {
    return this.time("txs_of_block", () => this.q.txsOfBlock.all(height, fromIndex, limit)).map(toTx);
  }

  tx(id: Uint8Array): TxRow | undefined {
    const r = this.time("tx_by_id", () => this.q.txById.get(Buffer.from(id)));
    return r && toTx(r);
  }

  /**
   * A device's readings received in [fromMs, toMs], strictly after (asc) or before (desc) the
   * cursor position (receivedAtMs, sequence).
   */
  readings(deviceId: Uint8Array, range: { fromMs: number; toMs: number }, after: { receivedAtMs: number; sequence: number } | undefined, limit: number, order: "asc" | "desc"): ReadingIndexRow[] {
    const id = Buffer.from(deviceId);
    if (order === "asc") {
      const c = after ?? { receivedAtMs: range.fromMs, sequence: -1 };
      return this.time("readings_by_device", () => this.q.readingsAsc.all(id, c.receivedAtMs, c.sequence, range.fromMs, range.toMs, limit)).map(toReading);
    }
    const c = after ?? { receivedAtMs: range.toMs, sequence: Number.MAX_SAFE_INTEGER };
    return this.time("readings_by_device", () => this.q.readingsDesc.all(id, c.receivedAtMs, c.sequence, range.fromMs, range.toMs, limit)).map(toReading);
  }

  reading(deviceId: Uint8Array, sequence: number): ReadingIndexRow | undefined {
    const r = this.time("reading_by_seq", () => this.q.reading.get(Buffer.from(deviceId), sequence));
    return r && toReading(r);
  }

  lastReading(deviceId: Uint8Array): ReadingIndexRow | undefined {
    const r = this.time("reading_last", () => this.q.lastReading.get(Buffer.from(deviceId)));
    return r && toReading(r);
  }

  /** A block's transactions that may change a device's status (revoke, report, lift), by device. */
  deviceTxsOfBlock(height: number): DeviceTxRow[] {
    return this.time("device_txs_of_block", () => this.q.deviceTxsOfBlock.all(height)).map((r) => ({ txId: new Uint8Array(r.id), kind: r.kind, deviceId: new Uint8Array(r.counterparty) }));
  }

  readingsOfBlock(height: number, limit: number): ReadingIndexRow[] {
    return this.time("readings_of_block", () => this.q.readingsOfBlock.all(height, limit)).map(toReading);
  }

  /** Device state records with ids above `afterHex` (exclusive), in id order. */
  devices(afterHex: string | undefined, limit: number): { idHex: string; value: Uint8Array }[] {
    const from = afterHex === undefined ? deviceKeyFirst : `${deviceKeyFirst}${afterHex}`;
    return this.time("devices_page", () => this.q.devices.all(from, deviceKeyEnd, limit)).map((r) => ({ idHex: r.key.slice(deviceKeyFirst.length), value: u8(r.value) }));
  }

  /**
   * Contract ids above `afterHex` (exclusive), in id order: one index step per contract, skipping
   * each contract's storage entries (which sort between its record and the next contract).
   */
  contractIds(afterHex: string | undefined, limit: number): string[] {
    return this.time("contracts_page", () => {
      const ids: string[] = [];
      let from = afterHex === undefined ? contractKeyFirst : `${contractKeyFirst}${afterHex}0`;
      while (ids.length < limit) {
        const row = this.q.nextStateKey.get(from, contractKeyEnd);
        if (!row) break;
        if (row.key.length === contractKeyLength) ids.push(row.key.slice(contractKeyFirst.length));
        from = `${row.key.slice(0, contractKeyLength)}0`;
      }
      return ids;
    });
  }

  /** Storage entries (state key, raw value) of a contract with key hex above `afterKeyHex`, in key order. */
  contractStorage(idHex: string, afterKeyHex: string | undefined, limit: number): { key: string; value: Uint8Array }[] {
    const first = storageKeyFirst(idHex);
    const from = afterKeyHex === undefined ? first : `${first}${afterKeyHex}`;
    return this.time("contract_storage_page", () => this.q.devices.all(from, storageKeyEnd(idHex), limit)).map((r) => ({ key: r.key, value: u8(r.value) }));
  }

  contractEvents(contractId: Uint8Array, o: { topic?: Uint8Array; from?: EventPlace; order: "asc" | "desc"; limit: number }): ContractEventRow[] {
    return this.time("contract_events", () => this.contractIndex.events(contractId, o));
  }

  contractEventsOfBlock(height: number, limit: number): ContractEventRow[] {
    return this.time("contract_events_of_block", () => this.contractIndex.eventsOfBlock(height, limit));
  }

  contractStats(contractId: Uint8Array) {
    return this.time("contract_stats", () => this.contractIndex.stats(contractId));
  }

  contractRecentRuns(contractId: Uint8Array, limit: number) {
    return this.time("contract_runs", () => this.contractIndex.recentRuns(contractId, limit));
  }
}
