// Derived index of contract runs and events (schema.ts contract_runs, contract_events,
// contract_stats): written in the block's own SQLite transaction like the other indexes, rebuilt
// from the blocks' results when it lags (a file migrated from schema version 2). Every query is
// bounded by an explicit row limit and runs on a primary key or index.
import type Database from "better-sqlite3";
import { storageAssert } from "./errors.ts";
import type { ContractIndexRows } from "./schema.ts";

/** Where a run or an event sits in the chain: block, transaction, run (and event) index. */
export interface EventPlace {
  height: number;
  txIndex: number;
  runIndex: number;
  eventIndex: number;
}

export interface ContractEventRow extends EventPlace {
  contractId: Uint8Array;
  position: number | null;
  topic: Uint8Array;
  data: Uint8Array;
}

export interface ContractRunRow {
  contractId: Uint8Array;
  height: number;
  txIndex: number;
  runIndex: number;
  position: number | null;
  gasUsed: number;
  failure: string | null;
  events: number;
}

export interface ContractStats {
  runs: number;
  failed: number;
  gasUsed: number;
  events: number;
  lastHeight: number | null;
}

type RawEvent = { contract: Buffer; height: number; tx_idx: number; run_idx: number; ev_idx: number; pos: number | null; topic: Buffer; data: Buffer };
type RawRun = { contract: Buffer; height: number; tx_idx: number; run_idx: number; pos: number | null; gas: number; failure: string | null; events: number };

const u8 = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
const toEvent = (r: RawEvent): ContractEventRow => ({ contractId: u8(r.contract), height: r.height, txIndex: r.tx_idx, runIndex: r.run_idx, eventIndex: r.ev_idx, position: r.pos, topic: u8(r.topic), data: u8(r.data) });
const toRun = (r: RawRun): ContractRunRow => ({ contractId: u8(r.contract), height: r.height, txIndex: r.tx_idx, runIndex: r.run_idx, position: r.pos, gasUsed: r.gas, failure: r.failure, events: r.events });

/** Most rows one query returns, whatever the caller asks. */
export const contractRowsMax = 1000;

const placeAfter = "(height, tx_idx, run_idx, ev_idx) > (?, ?, ?, ?)";
const placeBefore = "(height, tx_idx, run_idx, ev_idx) < (?, ?, ?, ?)";

export class ContractIndex {
  private readonly q;

  constructor(db: Database.Database) {
    this.q = {
      putRun: db.prepare("INSERT INTO contract_runs (contract, height, tx_idx, run_idx, pos, gas, failure, events) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
      putEvent: db.prepare("INSERT INTO contract_events (contract, height, tx_idx, run_idx, ev_idx, pos, topic, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
      addStats: db.prepare(
        `INSERT INTO contract_stats (contract, runs, failed, gas, events, last_height) VALUES (?, 1, ?, ?, ?, ?)
         ON CONFLICT (contract) DO UPDATE SET runs = runs + 1, failed = failed + excluded.failed, gas = gas + excluded.gas, events = events + excluded.events, last_height = max(last_height, excluded.last_height)`,
      ),
      runsOfBlock: db.prepare<[number], RawRun>("SELECT * FROM contract_runs WHERE height = ?"),
      subStats: db.prepare("UPDATE contract_stats SET runs = runs - ?, failed = failed - ?, gas = gas - ?, events = events - ? WHERE contract = ?"),
      lastRunHeight: db.prepare<[Buffer], { height: number }>("SELECT height FROM contract_runs WHERE contract = ? ORDER BY height DESC LIMIT 1"),
      setLast: db.prepare("UPDATE contract_stats SET last_height = ? WHERE contract = ?"),
      dropEmptyStats: db.prepare("DELETE FROM contract_stats WHERE runs <= 0"),
      clearRuns: db.prepare("DELETE FROM contract_runs WHERE height = ?"),
      clearEvents: db.prepare("DELETE FROM contract_events WHERE height = ?"),
      stats: db.prepare<[Buffer], { runs: number; failed: number; gas: number; events: number; last_height: number }>("SELECT runs, failed, gas, events, last_height FROM contract_stats WHERE contract = ?"),
      eventsAsc: db.prepare<[Buffer, number, number, number, number, number], RawEvent>(`SELECT * FROM contract_events WHERE contract = ? AND ${placeAfter} ORDER BY height, tx_idx, run_idx, ev_idx LIMIT ?`),
      eventsDesc: db.prepare<[Buffer, number, number, number, number, number], RawEvent>(`SELECT * FROM contract_events WHERE contract = ? AND ${placeBefore} ORDER BY height DESC, tx_idx DESC, run_idx DESC, ev_idx DESC LIMIT ?`),
      topicAsc: db.prepare<[Buffer, Buffer, number, number, number, number, number], RawEvent>(
        `SELECT * FROM contract_events WHERE contract = ? AND topic = ? AND ${placeAfter} ORDER BY height, tx_idx, run_idx, ev_idx LIMIT ?`,
      ),
      topicDesc: db.prepare<[Buffer, Buffer, number, number, number, number, number], RawEvent>(
        `SELECT * FROM contract_events WHERE contract = ? AND topic = ? AND ${placeBefore} ORDER BY height DESC, tx_idx DESC, run_idx DESC, ev_idx DESC LIMIT ?`,
      ),
      eventsOfBlock: db.prepare<[number, number], RawEvent>("SELECT * FROM contract_events WHERE height = ? ORDER BY tx_idx, run_idx, ev_idx LIMIT ?"),
      recentRuns: db.prepare<[Buffer, number], RawRun>("SELECT * FROM contract_runs WHERE contract = ? ORDER BY height DESC, tx_idx DESC, run_idx DESC LIMIT ?"),
    };
  }

  /** A block's rows, and the totals they add (inside the caller's transaction). */
  write(height: number, rows: ContractIndexRows): void {
    for (const r of rows.runs) {
      this.q.putRun.run(r.contractId, height, r.txIndex, r.runIndex, r.position, r.gasUsed, r.failure, r.events);
      this.q.addStats.run(r.contractId, r.failure === null ? 0 : 1, r.gasUsed, r.events, height);
    }
    for (const e of rows.events) this.q.putEvent.run(e.contractId, height, e.txIndex, e.runIndex, e.eventIndex, e.position, e.topic, e.data);
  }

  /** Removes a block's rows and takes their part out of the totals (a rebuild writes them again). */
  clear(height: number): void {
    const runs = this.q.runsOfBlock.all(height);
    this.q.clearRuns.run(height);
    this.q.clearEvents.run(height);
    for (const r of runs) {
      this.q.subStats.run(1, r.failure === null ? 0 : 1, r.gas, r.events, r.contract);
      const last = this.q.lastRunHeight.get(r.contract);
      if (last) this.q.setLast.run(last.height, r.contract);
    }
    this.q.dropEmptyStats.run();
  }

  stats(contractId: Uint8Array): ContractStats {
    const r = this.q.stats.get(Buffer.from(contractId));
    if (!r) return { runs: 0, failed: 0, gasUsed: 0, events: 0, lastHeight: null };
    storageAssert(r.runs > 0 && r.gas >= 0 && r.failed <= r.runs, `contract_stats row of a contract is inconsistent (${r.runs} runs, ${r.failed} failed, ${r.gas} gas)`);
    return { runs: r.runs, failed: r.failed, gasUsed: r.gas, events: r.events, lastHeight: r.last_height };
  }

  /**
   * A contract's events strictly after (asc) or before (desc) `from`, optionally of one topic.
   * Without `from`: from the first (asc) or the last (desc).
   */
  events(contractId: Uint8Array, o: { topic?: Uint8Array; from?: EventPlace; order: "asc" | "desc"; limit: number }): ContractEventRow[] {
    const id = Buffer.from(contractId);
    const edge = o.order === "asc" ? -1 : Number.MAX_SAFE_INTEGER;
    const p = o.from ?? { height: edge, txIndex: edge, runIndex: edge, eventIndex: edge };
    const place = [p.height, p.txIndex, p.runIndex, p.eventIndex] as const;
    const limit = Math.min(o.limit, contractRowsMax);
    if (o.topic === undefined) return (o.order === "asc" ? this.q.eventsAsc : this.q.eventsDesc).all(id, ...place, limit).map(toEvent);
    return (o.order === "asc" ? this.q.topicAsc : this.q.topicDesc).all(id, Buffer.from(o.topic), ...place, limit).map(toEvent);
  }

  eventsOfBlock(height: number, limit: number): ContractEventRow[] {
    return this.q.eventsOfBlock.all(height, Math.min(limit, contractRowsMax)).map(toEvent);
  }

  /** A contract's latest runs, newest first. */
  recentRuns(contractId: Uint8Array, limit: number): ContractRunRow[] {
    return this.q.recentRuns.all(Buffer.from(contractId), Math.min(limit, contractRowsMax)).map(toRun);
  }
}
