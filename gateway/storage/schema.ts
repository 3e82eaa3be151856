// The chain database's schema. Consensus data (blocks, state, sparse Merkle nodes, device logs) and derived
// indexes (transactions and readings, by block, account, device and time) live in one file and
// change in one SQLite transaction per block. `schema_version` in meta lets later releases
// migrate in place; `index_height` says up to which block the derived indexes are complete, so
// they can be rebuilt from block bodies if a release changes them.
// Version 2: blocks keep their transactions' results (header resultsRoot); readings keep their
// position in the device's log, which is arrival order and no longer sequence order.
// Version 3: contract runs, events and per-contract totals (contract_runs, contract_events,
// contract_stats), derived from the blocks' results. A version 2 file is migrated in place on
// open: the tables are created and filled from the stored results (recover.ts), tracked by the
// meta key contract_index_height like index_height tracks the others.
// Version 4: each reading's decoded SenML records (reading_values) and readings by log position
// (readings_by_log), for SQL over the index (gateway/sql/) and its range proofs. A version 2 or 3
// file is migrated in place on open: its readings index is emptied and rebuilt from the block
// bodies by recovery, which now writes the decoded values too.
// Version 5: device_log holds one row per append (the leaf's hash and the subtree roots it
// completed, device-log-store.ts) instead of one per node. A version 2 to 4 file is migrated in
// place on open (its node rows regrouped); the hashes, and so every root and proof, are unchanged.
// Version 6: reading_values is keyed by the reading's place in the chain (height, tx_idx, pos, rec)
// instead of (device, seq, rec), so a block's values are appended together at the end of the tree
// instead of dirtying a page per device (bench/HISTORY.md, bench:chain); readings_by_block is gone:
// readings itself is keyed (height, tx_idx, pos), its (device, seq) key becoming the unique index
// readings_by_seq, so of a reading's rows only readings_by_seq, readings_by_time and readings_by_log
// are device-keyed. device_log rows are keyed by their leaf's place the same way
// (device-log-store.ts), found by (device, leaf index) through readings_by_log. A version 2 to 5
// file is migrated in place on open (index-writer.ts migrateReadingRows and migrateValueRows,
// device-log-store.ts migrateLogPlaces); same rows, same hashes.
// A file whose readings index is rebuilt by the migration (version 3 and older) has its device
// logs rebuilt from it after (meta device_log_rebuild, gateway/chain/device-log-rebuild.ts).
// Version 7: readings has no device-keyed index. A device's readings are found through
// readings_merged (device number, seq) and its two indexes, written for a device once every
// readingShards blocks, and through readings_recent, the rows not merged yet (reading-keys.ts owns
// the merge; device_readings is the view every device query reads). Device ids become numbers
// (reading_devices) in those trees: entries a third the size. A version 2 to 6 file is migrated
// in place on open (reading-keys.ts migrateReadingKeys: every reading merged, the schema-6
// indexes dropped).
export const schemaVersion = 7;
/** Previous versions this build migrates in place (chain-store.ts checkSchema). */
export const schemaVersionsMigratable: readonly number[] = [2, 3, 4, 5, 6];

/**
 * Shards of devices for merging recent readings (reading-keys.ts): a device's readings are merged
 * into the device-keyed trees at the heights h with h mod readingShards = its number mod
 * readingShards. Part of the file's layout: changing it needs a schema version (rows of a shard
 * no longer merged would stay in readings_recent).
 */
export const readingShards = 16;

import type { SenmlRecord } from "../../shared/senml.ts";

/**
 * Schema 6's indexes of the readings table, each costing a page per device per block once the chain
 * is large (bench/HISTORY.md, bench:chain). Only made while migrating an older file (the schema 2-5 steps find
 * rows through them); the schema-7 step drops them (reading-keys.ts).
 */
export const readingsIndexSql = `
-- A device's reading by sequence: one per (device, seq).
CREATE UNIQUE INDEX IF NOT EXISTS readings_by_seq ON readings (device, seq);
-- A device's readings by reception time (the API's ranges), ties in sequence order.
CREATE INDEX IF NOT EXISTS readings_by_time ON readings (device, received_ms, seq);
-- A device's readings in log order (arrival on chain): the leaves of its log, for range proofs,
-- and the way to its device_log rows.
CREATE INDEX IF NOT EXISTS readings_by_log ON readings (device, log_idx);
`;

/**
 * The view every device query reads (schema 7). Also re-made by the schema-7 migration: renaming the
 * readings table in an older step (migrateReadingRows) renames it inside the view too.
 */
export const deviceReadingsViewSql = `
-- Every reading with the readings table's columns, found by device (through reading_devices and the
-- two trees above) or by place (through readings): the one name device queries read. A reading is
-- in exactly one arm. seq, received_ms and log_idx come from the device-keyed trees so that ranges
-- and orders on them use their indexes; height, tx_idx, pos from readings so that a block's rows
-- are found by its key.
CREATE VIEW IF NOT EXISTS device_readings AS
SELECT d.device AS device, m.seq AS seq, m.received_ms AS received_ms, r.height AS height, r.tx_idx AS tx_idx, r.pos AS pos, r.gateway AS gateway, r.digest AS digest, m.log_idx AS log_idx
  FROM readings r JOIN reading_devices d ON d.device = r.device
  JOIN readings_merged m ON m.num = d.num AND m.seq = r.seq AND m.height = r.height AND m.tx_idx = r.tx_idx AND m.pos = r.pos
UNION ALL
SELECT d.device, m.seq, m.received_ms, r.height, r.tx_idx, r.pos, r.gateway, r.digest, m.log_idx
  FROM readings r JOIN reading_devices d ON d.device = r.device
  JOIN readings_recent m ON m.num = d.num AND m.seq = r.seq AND m.height = r.height AND m.tx_idx = r.tx_idx AND m.pos = r.pos;
`;

export const schemaSql = `
CREATE TABLE IF NOT EXISTS meta (
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS blocks (
  height INTEGER PRIMARY KEY,
  hash BLOB NOT NULL UNIQUE,
  previous_hash BLOB NOT NULL,
  time_ms INTEGER NOT NULL,
  header BLOB NOT NULL,
  body BLOB NOT NULL,
  certificate BLOB,
  results BLOB NOT NULL               -- cbor([bstr result...]), one per transaction (reading-outcome.ts)
);

CREATE TABLE IF NOT EXISTS state (
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS smt_nodes (
  id BLOB PRIMARY KEY,
  body BLOB NOT NULL
) WITHOUT ROWID;

-- Each device's reading log (gateway/chain/device-log.ts), one row per append (device-log-store.ts):
-- the leaf's hash, then the roots of the perfect subtrees it completed, level 1 upward (32 bytes
-- each), keyed by the place in the chain of the reading the leaf holds; readings_by_log finds a
-- device's leaf by its index. A block's appends are adjacent, at the end of the tree.
CREATE TABLE IF NOT EXISTS device_log (
  height INTEGER NOT NULL,
  tx_idx INTEGER NOT NULL,
  pos INTEGER NOT NULL,
  hashes BLOB NOT NULL,
  PRIMARY KEY (height, tx_idx, pos)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS txs (
  id BLOB PRIMARY KEY,
  height INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  kind INTEGER NOT NULL,
  author BLOB NOT NULL,
  counterparty BLOB
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS txs_by_block ON txs (height, idx);
CREATE INDEX IF NOT EXISTS txs_by_author ON txs (author, height);
CREATE INDEX IF NOT EXISTS txs_by_counterparty ON txs (counterparty, height) WHERE counterparty IS NOT NULL;

-- Readings on chain, one row per (device, sequence). Execution reads it (a recorded sequence's
-- digest tells a duplicate from equivocation), so it is written with its block like the state.
-- Keyed by the reading's place in the chain (schema 6): a block's rows are appended together at
-- the end of the tree; a device's rows are found through the device_readings view (deviceReadingsViewSql).
CREATE TABLE IF NOT EXISTS readings (
  device BLOB NOT NULL,
  seq INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  height INTEGER NOT NULL,
  tx_idx INTEGER NOT NULL,
  pos INTEGER NOT NULL,
  gateway BLOB NOT NULL,
  digest BLOB NOT NULL,
  log_idx INTEGER NOT NULL,
  PRIMARY KEY (height, tx_idx, pos)
) WITHOUT ROWID;
-- No device-keyed index (schema 7): a device's readings are found through the trees below.

-- Device ids as numbers (1, 2, ... in order of first reading) in the device-keyed trees: an entry
-- a third the size of one keyed by the 32-byte id, so a device's entries fill fewer pages.
CREATE TABLE IF NOT EXISTS reading_devices (
  num INTEGER PRIMARY KEY,
  device BLOB NOT NULL UNIQUE
);
-- Readings not yet merged into readings_merged (reading-keys.ts): keyed by the device's shard
-- (num mod readingShards) then place, so a block appends a run per shard and a merge deletes one
-- contiguous range. readings_recent_by_seq is small (readingShards blocks at most): execution's
-- (device, seq) look-up stays a point look-up.
CREATE TABLE IF NOT EXISTS readings_recent (
  shard INTEGER NOT NULL,
  height INTEGER NOT NULL,
  tx_idx INTEGER NOT NULL,
  pos INTEGER NOT NULL,
  num INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  log_idx INTEGER NOT NULL,
  PRIMARY KEY (shard, height, tx_idx, pos)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS readings_recent_by_seq ON readings_recent (num, seq);
-- A device's readings by sequence, reception time and log position, written for a device once
-- every readingShards blocks (its entries of those blocks together: a page or two per device per
-- tree, where every block used to dirty one or two).
CREATE TABLE IF NOT EXISTS readings_merged (
  num INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  log_idx INTEGER NOT NULL,
  height INTEGER NOT NULL,
  tx_idx INTEGER NOT NULL,
  pos INTEGER NOT NULL,
  PRIMARY KEY (num, seq)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS readings_merged_by_time ON readings_merged (num, received_ms, seq);
CREATE INDEX IF NOT EXISTS readings_merged_by_log ON readings_merged (num, log_idx);
-- device_readings: deviceReadingsViewSql (above).
-- Each recorded reading's SenML records (RFC 8428), decoded from its COSE payload in the block
-- body (shared/senml.ts resolves base fields): record rec of the reading at position pos of
-- transaction tx_idx of block height (its readings row has the same three). Exactly one of value,
-- string_value, bool_value is set. time_s is the record's SenML time, when it has one.
-- Keyed by place, not by (device, seq): one block's rows are adjacent, so a commit appends them
-- (a few pages) instead of dirtying each device's page (schema 6); a device's values are found
-- through device_readings (device, seq) -> (height, tx_idx, pos) (gateway/sql/views.ts).
CREATE TABLE IF NOT EXISTS reading_values (
  height INTEGER NOT NULL,
  tx_idx INTEGER NOT NULL,
  pos INTEGER NOT NULL,
  rec INTEGER NOT NULL,
  name TEXT NOT NULL,
  unit TEXT,
  value REAL,
  string_value TEXT,
  bool_value INTEGER,
  time_s REAL,
  PRIMARY KEY (height, tx_idx, pos, rec)
) WITHOUT ROWID;

-- Contract runs (a call's, or a reading's trigger) and the events they emitted, from each
-- transaction's result (gateway/contracts/records.ts runToCbor). (height, tx_idx, run_idx) is a
-- run's place in the chain; pos is the triggering reading's position in its batch (NULL: a call).
CREATE TABLE IF NOT EXISTS contract_runs (
  contract BLOB NOT NULL,
  height INTEGER NOT NULL,
  tx_idx INTEGER NOT NULL,
  run_idx INTEGER NOT NULL,
  pos INTEGER,
  gas INTEGER NOT NULL,
  failure TEXT,
  events INTEGER NOT NULL,
  PRIMARY KEY (contract, height, tx_idx, run_idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS contract_runs_by_block ON contract_runs (height);

CREATE TABLE IF NOT EXISTS contract_events (
  contract BLOB NOT NULL,
  height INTEGER NOT NULL,
  tx_idx INTEGER NOT NULL,
  run_idx INTEGER NOT NULL,
  ev_idx INTEGER NOT NULL,
  pos INTEGER,
  topic BLOB NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY (contract, height, tx_idx, run_idx, ev_idx)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS contract_events_by_topic ON contract_events (contract, topic, height, tx_idx, run_idx, ev_idx);
CREATE INDEX IF NOT EXISTS contract_events_by_block ON contract_events (height);

-- Totals per contract, kept with the rows above (added when a block's rows are written,
-- subtracted when they are cleared), so a contract's gas used is one row, not a scan of its runs.
CREATE TABLE IF NOT EXISTS contract_stats (
  contract BLOB PRIMARY KEY,
  runs INTEGER NOT NULL,
  failed INTEGER NOT NULL,
  gas INTEGER NOT NULL,
  events INTEGER NOT NULL,
  last_height INTEGER NOT NULL
) WITHOUT ROWID;
${deviceReadingsViewSql}`;

/** Derived index rows of one block (built by the chain from the block, never from the state). */
export interface IndexRows {
  txs: { id: Uint8Array; idx: number; kind: number; author: Uint8Array; counterparty: Uint8Array | null }[];
  readings: { deviceId: Uint8Array; sequence: number; receivedAtMs: number; txIndex: number; position: number; gatewayId: Uint8Array; digest: Uint8Array; logIndex: number; records: SenmlRecord[] }[];
  contracts: ContractIndexRows;
}

/** A block's contract runs and events (contract-index.ts), from its transactions' results. */
export interface ContractIndexRows {
  runs: { contractId: Uint8Array; txIndex: number; runIndex: number; position: number | null; gasUsed: number; failure: string | null; events: number }[];
  events: { contractId: Uint8Array; txIndex: number; runIndex: number; eventIndex: number; position: number | null; topic: Uint8Array; data: Uint8Array }[];
}
