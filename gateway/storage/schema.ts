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
// instead of dirtying a page per device (README bench:chain); readings_by_block is gone:
// readings itself is keyed (height, tx_idx, pos), its (device, seq) key becoming the unique index
// readings_by_seq, so of a reading's rows only readings_by_seq, readings_by_time and readings_by_log
// are device-keyed. device_log rows are keyed by their leaf's place the same way
// (device-log-store.ts), found by (device, leaf index) through readings_by_log. A version 2 to 5
// file is migrated in place on open (index-writer.ts migrateReadingRows and migrateValueRows,
// device-log-store.ts migrateLogPlaces); same rows, same hashes.
// A file whose readings index is rebuilt by the migration (version 3 and older) has its device
// logs rebuilt from it after (meta device_log_rebuild, gateway/chain/device-log-rebuild.ts).
export const schemaVersion = 6;
/** Previous versions this build migrates in place (chain-store.ts checkSchema). */
export const schemaVersionsMigratable: readonly number[] = [2, 3, 4, 5];

import type { SenmlRecord } from "../../shared/senml.ts";

/**
 * The readings table's indexes: every device-keyed B-tree a reading is inserted into, so each costs
 * a page per device per block once the chain is large (README bench:chain). Also run by the
 * schema-6 migration, which rebuilds the table.
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
-- the end of the tree; a device's rows are found through the indexes below.
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
-- Its indexes: readingsIndexSql, made after a migration rebuilt the table (chain-store.ts).
-- Each recorded reading's SenML records (RFC 8428), decoded from its COSE payload in the block
-- body (shared/senml.ts resolves base fields): record rec of the reading at position pos of
-- transaction tx_idx of block height (its readings row has the same three). Exactly one of value,
-- string_value, bool_value is set. time_s is the record's SenML time, when it has one.
-- Keyed by place, not by (device, seq): one block's rows are adjacent, so a commit appends them
-- (a few pages) instead of dirtying each device's page (schema 6); a device's values are found
-- through readings (device, seq) -> (height, tx_idx, pos) (gateway/sql/views.ts).
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
`;

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
