// The gateway's chain database: one SQLite file, `<dataDir>/chain.sqlite`, in WAL mode. A block,
// its state changes, its sparse Merkle node changes and its derived index rows are written in one
// SQLite transaction, so after a crash (kill -9, power cut) the file holds either all of a block
// or none of it; SQLite's WAL recovery on open rolls back anything partial.
//
// Paired checks (TigerBeetle habit): a block's hash link is asserted before it is written, and a
// block read back is checked against its stored hash before it is returned.
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { sha256 } from "../../shared/ed25519.ts";
import { StorageError, storageAssert } from "./errors.ts";
import { Lru } from "../../shared/lru.ts";
import { chainDbFileName, storeDefaults, type StoreOptions } from "./options.ts";
import { schemaSql, schemaVersion, schemaVersionsMigratable, type ContractIndexRows, type IndexRows } from "./schema.ts";
import { IndexWriter, migrateReadingRows, migrateValueRows } from "./index-writer.ts";
import { migrateReadingKeys } from "./reading-keys.ts";
import { DeviceLogStore, migrateLogPlaces, migrateNodeRows } from "./device-log-store.ts";

export interface StoredBlock {
  height: number;
  hash: Uint8Array;
  previousHash: Uint8Array;
  timeMs: number;
  header: Uint8Array;
  body: Uint8Array;
  certificate: Uint8Array | null;
  /** cbor([bstr result...]): the transactions' results (gateway/chain/reading-outcome.ts). */
  results: Uint8Array;
}

export interface BlockCommit extends StoredBlock {
  stateRoot: Uint8Array;
  stateWrites: Map<string, Uint8Array | null>;
  /** Sparse Merkle node writes keyed by latin1 position ids (gateway/chain/smt.ts). */
  nodeWrites: Map<string, Uint8Array | null>;
  /** Device log appends (gateway/chain/device-log.ts). */
  logNodes: { deviceId: Uint8Array; level: number; index: number; hash: Uint8Array }[];
  index: IndexRows;
}

const zero32 = new Uint8Array(32);
const u8 = (b: Buffer | Uint8Array): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export class ChainStore {
  private readonly stateCache: Lru<string, Uint8Array | null>;
  private readonly nodeCache: Lru<string, Uint8Array | null>;
  private readonly q;
  private indexWriter!: IndexWriter;
  private logs!: DeviceLogStore;
  private tipCache: { height: number; hash: Uint8Array } | undefined;

  private constructor(
    readonly db: Database.Database,
    readonly path: string,
    readonly options: StoreOptions,
  ) {
    this.stateCache = new Lru(options.stateCacheMax);
    this.nodeCache = new Lru(options.nodeCacheMax);
    this.q = {
      getState: db.prepare<[string], { value: Buffer }>("SELECT value FROM state WHERE key = ?"),
      putState: db.prepare("INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
      delState: db.prepare("DELETE FROM state WHERE key = ?"),
      getNode: db.prepare<[Buffer], { body: Buffer }>("SELECT body FROM smt_nodes WHERE id = ?"),
      putNode: db.prepare("INSERT INTO smt_nodes (id, body) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET body = excluded.body"),
      delNode: db.prepare("DELETE FROM smt_nodes WHERE id = ?"),
      tip: db.prepare<[], { height: number; hash: Buffer }>("SELECT height, hash FROM blocks ORDER BY height DESC LIMIT 1"),
      block: db.prepare<[number], { height: number; hash: Buffer; previous_hash: Buffer; time_ms: number; header: Buffer; body: Buffer; certificate: Buffer | null; results: Buffer }>(
        "SELECT height, hash, previous_hash, time_ms, header, body, certificate, results FROM blocks WHERE height = ?",
      ),
      putBlock: db.prepare("INSERT INTO blocks (height, hash, previous_hash, time_ms, header, body, certificate, results) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
      setCertificate: db.prepare("UPDATE blocks SET certificate = ? WHERE height = ?"),
      getMeta: db.prepare<[string], { value: Buffer }>("SELECT value FROM meta WHERE key = ?"),
      putMeta: db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
    };
  }

  /** Opens (creating if needed) `<dataDir>/chain.sqlite`. `dataDir` ":memory:" opens a private in-memory database. */
  static open(dataDir: string, options: Partial<StoreOptions> = {}): ChainStore {
    const opts = { ...storeDefaults, ...options };
    const path = dataDir === ":memory:" ? ":memory:" : join(dataDir, chainDbFileName);
    if (dataDir !== ":memory:" && !opts.readonly) mkdirSync(dataDir, { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(path, { readonly: opts.readonly, fileMustExist: opts.readonly });
    } catch (e) {
      throw new StorageError("STORE_OPEN", `cannot open ${path}: ${(e as Error).message}; check the data directory and its permissions`);
    }
    if (!opts.readonly) {
      // A new file reclaims pages incrementally (expiry-store.ts). Only before the file has a header:
      // SQLite ignores it once WAL mode or a table was written.
      db.pragma("auto_vacuum = INCREMENTAL");
      db.pragma("journal_mode = WAL");
      db.pragma(`synchronous = ${opts.synchronous}`);
      db.pragma(`wal_autocheckpoint = ${opts.walCheckpointPages}`);
    }
    db.pragma(`cache_size = -${opts.pageCacheKiB}`);
    db.pragma("foreign_keys = OFF");
    if (!opts.readonly) db.exec(schemaSql);
    const store = new ChainStore(db, path, opts);
    store.checkSchema();
    // After the migration: their statements name the columns of the current device_log and reading_values.
    store.logs = new DeviceLogStore(db);
    store.indexWriter = new IndexWriter(db);
    return store;
  }

  private checkSchema(): void {
    const v = this.meta("schema_version");
    if (v === undefined) {
      if (this.options.readonly) throw new StorageError("STORE_EMPTY", `${this.path} holds no chain; initialise it with the gateway first`);
      this.setMeta("schema_version", Uint8Array.of(schemaVersion));
      return;
    }
    if (v.length === 1 && schemaVersionsMigratable.includes(v[0]) && !this.options.readonly) {
      const from = v[0];
      this.db.transaction(() => {
        // Made by schemaSql over the old readings table; the steps below rename tables, which
        // SQLite refuses while a view names one they dropped. migrateReadingKeys makes it again.
        this.db.exec("DROP VIEW IF EXISTS device_readings");
        // Version 3 only adds derived contract tables (created by schemaSql): mark them as empty
        // below every block, so recovery (gateway/chain/recover.ts) fills them from the results.
        if (from === 2) this.setMeta("contract_index_height", Buffer.from("-1"));
        // Version 4 adds each reading's decoded values: the readings index is rebuilt from the
        // bodies (a device's log positions are counted from its rows, so they go first).
        if (from <= 3) {
          this.db.exec("DELETE FROM readings; DELETE FROM reading_values;");
          this.setMeta("index_height", Buffer.from("-1"));
        }
        // Version 5 stores a device log's nodes as one row per append: regrouped, same hashes.
        if (from <= 4) migrateNodeRows(this.db);
        // Version 6 keys readings, reading_values and device_log by the reading's place in the
        // chain: the rows are re-keyed, same values (a value without its readings row: both are
        // rebuilt from the bodies by recovery).
        migrateReadingRows(this.db);
        if (!migrateValueRows(this.db).complete) {
          this.db.exec("DELETE FROM readings; DELETE FROM reading_values;");
          this.setMeta("index_height", Buffer.from("-1"));
        }
        // ... and device_log by its leaves' places, found through the readings index: when that
        // index is being rebuilt, the logs are rebuilt from it afterwards (recover.ts).
        if (!migrateLogPlaces(this.db).complete) this.setMeta("device_log_rebuild", Buffer.from("1"));
        // Version 7 finds a device's readings through readings_merged and readings_recent instead
        // of three indexes of readings: every stored reading merged, the indexes dropped.
        migrateReadingKeys(this.db);
        this.setMeta("schema_version", Uint8Array.of(schemaVersion));
      })();
      return;
    }
    if (v.length !== 1 || v[0] !== schemaVersion) {
      const migratable = v.length === 1 && schemaVersionsMigratable.includes(v[0]);
      const what = migratable ? "open it once writable with this build (start the gateway on it) to migrate it in place" : "use a matching release or migrate the data directory";
      throw new StorageError("STORE_SCHEMA", `${this.path} has schema version ${v[0]}, this build reads ${schemaVersion}; ${what}`);
    }
  }

  close(): void {
    this.db.close();
  }

  // ---- state and sparse Merkle nodes (read side of the chain's overlays) ---------------------

  get(key: string): Uint8Array | undefined {
    const cached = this.stateCache.get(key);
    if (cached !== undefined) return cached ?? undefined;
    const row = this.q.getState.get(key);
    const value = row ? u8(row.value) : null;
    this.stateCache.set(key, value);
    return value ?? undefined;
  }

  node(id: string): Uint8Array | undefined {
    const cached = this.nodeCache.get(id);
    if (cached !== undefined) return cached ?? undefined;
    const row = this.q.getNode.get(Buffer.from(id, "latin1"));
    const body = row ? u8(row.body) : null;
    this.nodeCache.set(id, body);
    return body ?? undefined;
  }

  /** A stored node of a device's reading log (proofs only; execution needs just the frontier). */
  logNode(deviceId: Uint8Array, level: number, index: number): Uint8Array | undefined {
    return this.logs.node(deviceId, level, index);
  }

  /** The digest recorded on chain for a device's sequence (execution: duplicate or equivocation). */
  recordedReading(deviceId: Uint8Array, sequence: number): Uint8Array | undefined {
    return this.indexWriter.readingDigest(deviceId, sequence);
  }

  // ---- blocks --------------------------------------------------------------------------------

  tip(): { height: number; hash: Uint8Array } | undefined {
    if (this.tipCache) return this.tipCache;
    const row = this.q.tip.get();
    this.tipCache = row ? { height: row.height, hash: u8(row.hash) } : undefined;
    return this.tipCache;
  }

  /** A stored block, checked against its stored hash (the read half of the paired assertion). */
  block(height: number): StoredBlock | undefined {
    const r = this.q.block.get(height);
    if (!r) return undefined;
    const b: StoredBlock = { height: r.height, hash: u8(r.hash), previousHash: u8(r.previous_hash), timeMs: r.time_ms, header: u8(r.header), body: u8(r.body), certificate: r.certificate ? u8(r.certificate) : null, results: u8(r.results) };
    storageAssert(Buffer.compare(sha256(b.header), b.hash) === 0, `block ${height}: header does not hash to its stored hash`);
    return b;
  }

  /**
   * Wraps the store's write transactions, so the gateway can time them (SQLite timings in /metrics)
   * without the store knowing about metrics. Default: no timing.
   */
  timed: <T>(operation: string, fn: () => T) => T = (_operation, fn) => fn();

  /**
   * Writes a block and everything it changed in one transaction. The write half of the paired
   * assertion: the block must extend the tip by one height and link to its hash.
   */
  commitBlock(c: BlockCommit): void {
    const tip = this.tip();
    storageAssert(c.height === (tip ? tip.height + 1 : 0), `block ${c.height} does not extend the tip ${tip?.height ?? "(empty)"}`);
    storageAssert(Buffer.compare(c.previousHash, tip ? tip.hash : zero32) === 0, `block ${c.height} does not link to the tip's hash`);
    storageAssert(Buffer.compare(sha256(c.header), c.hash) === 0, `block ${c.height}: hash is not the header's hash`);
    const nodeWrites = [...c.nodeWrites].map(([id, body]) => [id, Buffer.from(id, "latin1"), body] as const);
    this.timed("commit_block", () => this.db.transaction(() => {
      this.q.putBlock.run(c.height, c.hash, c.previousHash, c.timeMs, c.header, c.body, c.certificate, c.results);
      for (const [key, value] of c.stateWrites) {
        if (value === null) this.q.delState.run(key);
        else this.q.putState.run(key, value);
      }
      for (const [, idBlob, body] of nodeWrites) {
        if (body === null) this.q.delNode.run(idBlob);
        else this.q.putNode.run(idBlob, body);
      }
      this.logs.write(c.logNodes, c.index.readings.map((r) => ({ deviceId: r.deviceId, logIndex: r.logIndex, height: c.height, txIndex: r.txIndex, position: r.position })));
      this.indexWriter.write(c.height, c.index);
      this.q.putMeta.run("state_root", c.stateRoot);
      this.q.putMeta.run("index_height", Buffer.from(String(c.height)));
      this.q.putMeta.run("contract_index_height", Buffer.from(String(c.height)));
    })());
    // Caches change only after the transaction committed: a failed commit leaves them true to disk.
    this.tipCache = { height: c.height, hash: c.hash };
    for (const [key, value] of c.stateWrites) this.stateCache.set(key, value);
    for (const [id, , body] of nodeWrites) this.nodeCache.set(id, body);
  }

  /** Stores the certificate this node holds for a block it already committed (e.g. the tip). */
  setCertificate(height: number, certificate: Uint8Array): void {
    const r = this.q.setCertificate.run(certificate, height);
    storageAssert(r.changes === 1, `no block ${height} to attach a certificate to`);
  }

  // ---- meta and derived indexes --------------------------------------------------------------

  meta(key: string): Uint8Array | undefined {
    const r = this.q.getMeta.get(key);
    return r ? u8(r.value) : undefined;
  }

  setMeta(key: string, value: Uint8Array): void {
    this.q.putMeta.run(key, value);
  }

  /** Height up to which the derived indexes are complete. */
  indexHeight(): number {
    const v = this.meta("index_height");
    return v ? Number(Buffer.from(v).toString()) : -1;
  }

  /** Rebuilds the derived indexes of blocks above `indexHeight()` from their bodies. */
  rebuildIndexes(derive: (b: StoredBlock) => IndexRows): number {
    const from = this.indexHeight();
    // The device-keyed reading entries above it go first, by height (reading-keys.ts clearAbove):
    // a lagging index may have lost the readings rows through which a block's are found.
    if ((this.tip()?.height ?? -1) > from) this.db.transaction(() => this.indexWriter.keys.clearAbove(from))();
    return this.rebuildAbove(from, (h, b) => {
      this.indexWriter.clear(h);
      this.indexWriter.write(h, derive(b));
      this.q.putMeta.run("index_height", Buffer.from(String(h)));
      this.q.putMeta.run("contract_index_height", Buffer.from(String(h)));
    });
  }

  /** Height up to which the contract index (contract-index.ts) is complete. */
  contractIndexHeight(): number {
    const v = this.meta("contract_index_height");
    return v ? Number(Buffer.from(v).toString()) : this.indexHeight();
  }

  /** Rebuilds the contract index of blocks above `contractIndexHeight()` from their results. */
  rebuildContractIndex(derive: (b: StoredBlock) => ContractIndexRows): number {
    return this.rebuildAbove(this.contractIndexHeight(), (h, b) => {
      this.indexWriter.contracts.clear(h);
      this.indexWriter.contracts.write(h, derive(b));
      this.q.putMeta.run("contract_index_height", Buffer.from(String(h)));
    });
  }

  /** Runs `rewrite` in its own transaction for each stored block above `height`, up to the tip; returns how many. */
  private rebuildAbove(height: number, rewrite: (h: number, b: StoredBlock) => void): number {
    const tip = this.tip();
    if (!tip) return 0;
    let rebuilt = 0;
    for (let h = height + 1; h <= tip.height; h++) {
      const b = this.block(h);
      storageAssert(b !== undefined, `block ${h} is missing below the tip ${tip.height}`);
      this.db.transaction(() => rewrite(h, b))();
      rebuilt++;
    }
    return rebuilt;
  }

  /** Every state row, in key order (invariant checks and tools; not for hot paths). */
  *stateEntries(prefix = ""): Generator<[string, Uint8Array]> {
    const stmt = this.db.prepare<[string, string], { key: string; value: Buffer }>("SELECT key, value FROM state WHERE key >= ? AND key < ? ORDER BY key");
    for (const r of stmt.iterate(prefix, prefix + "\uffff")) yield [r.key, u8(r.value)];
  }

  /** Device log rows (device-log-store.ts); writes belong in a transaction of their own caller. */
  get deviceLogs(): DeviceLogStore {
    return this.logs;
  }

  get indexes(): IndexWriter {
    return this.indexWriter;
  }
}
