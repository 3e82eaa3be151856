// The SQL engine's limits, in one place (TigerBeetle habit: a limit on everything).
export interface SqlOptions {
  /** Wall time a statement may run before its runner process is killed (SIGKILL). */
  timeMs: number;
  /** Rows an answer holds; the statement stops stepping after rowsMax + 1 (the +1 says "truncated"). */
  rowsMax: number;
  /** Bytes of values an answer holds (text and hex blobs counted as characters, numbers as 8). */
  bytesMax: number;
  /**
   * Memory of each runner process (RLIMIT_DATA, set with `ulimit -d` before it starts: Node's heap
   * and SQLite's allocations alike); an allocation past it fails and the statement is SQL_MEMORY.
   * SQLite's own PRAGMA hard_heap_limit does nothing here: better-sqlite3 builds SQLite without
   * memory statistics (SQLITE_DEFAULT_MEMSTATUS=0).
   */
  memoryBytesMax: number;
  /** Runner processes kept warm. */
  runners: number;
  /** Statements waiting for a runner before new ones are refused (SQL_BUSY). */
  queueMax: number;
  /** Statement text. */
  textBytesMax: number;
  /** Bound parameters. */
  paramsMax: number;
  /** Log leaves one completeness proof may carry. */
  rangeLeavesMax: number;
  /** Declared ranges per verified query. */
  rangesMax: number;
  /** Rows a verified answer may hold (each carries a proof). */
  verifiedRowsMax: number;
}

export const sqlDefaults: SqlOptions = {
  timeMs: 2_000,
  rowsMax: 10_000,
  bytesMax: 8 * 1024 * 1024,
  memoryBytesMax: 512 * 1024 * 1024,
  runners: 2,
  queueMax: 32,
  textBytesMax: 16 * 1024,
  paramsMax: 64,
  rangeLeavesMax: 20_000,
  rangesMax: 16,
  verifiedRowsMax: 2_000,
};
