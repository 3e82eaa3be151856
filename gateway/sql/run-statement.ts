// Running one admitted statement on a read connection, within row and byte limits, at one
// snapshot: the answer says which block height the index held (meta index_height, read in the
// same read transaction), so proofs can be made against that state. Used by the runner process
// (runner-child.ts) and, for comparison, by the bench on a connection of its own.
import Database from "better-sqlite3";
import { registerViewFunctions, viewsSql } from "./views.ts";

/** A parameter as JSON carries it; {"hex": "..."} binds a BLOB. */
export type SqlParam = string | number | boolean | null | { hex: string };
export type SqlValue = string | number | null;

export interface RunRequest {
  sql: string;
  params: SqlParam[];
  rowsMax: number;
  bytesMax: number;
}

export interface RunAnswer {
  columns: string[];
  /** Values: INTEGER/REAL as numbers (integers beyond 2^53 as decimal strings), TEXT as strings, BLOB as lower-case hex. */
  rows: SqlValue[][];
  /** True when the statement had more rows (or bytes) than the limits: `rows` is the first part. */
  truncated: boolean;
  /** Height up to which the index was complete in the snapshot the statement read. */
  height: number;
}

/** Opens the chain database read-only with the documented views. */
export function openReadConnection(path: string): Database.Database {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  // Sorts and temporary b-trees in memory, so the process's memory limit bounds them too (no temp files).
  db.pragma("temp_store = MEMORY");
  registerViewFunctions(db);
  db.exec(viewsSql());
  db.pragma("query_only = 1");
  return db;
}

export function bindValue(p: SqlParam): unknown {
  if (typeof p === "boolean") return p ? 1 : 0;
  if (p !== null && typeof p === "object") return Buffer.from(p.hex, "hex");
  return p;
}

function jsonValue(v: unknown): SqlValue {
  if (typeof v === "bigint") return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (Buffer.isBuffer(v)) return v.toString("hex");
  if (v instanceof Uint8Array) return Buffer.from(v).toString("hex");
  return v as SqlValue;
}

function valueBytes(v: SqlValue): number {
  return typeof v === "string" ? v.length : 8;
}

export function runStatement(db: Database.Database, req: RunRequest): RunAnswer {
  const stmt = db.prepare(req.sql);
  const heightStmt = db.prepare<[], { value: Buffer }>("SELECT value FROM main.meta WHERE key = 'index_height'");
  db.exec("BEGIN");
  try {
    const h = heightStmt.get();
    const height = h ? Number(Buffer.from(h.value).toString()) : -1;
    const columns = stmt.columns().map((c) => c.name);
    const rows: SqlValue[][] = [];
    let bytes = 0;
    let truncated = false;
    for (const raw of stmt.raw(true).safeIntegers(true).iterate(...req.params.map(bindValue)) as Iterable<unknown[]>) {
      const row = raw.map(jsonValue);
      bytes += row.reduce((n: number, v) => n + valueBytes(v), 0);
      if (rows.length >= req.rowsMax || bytes > req.bytesMax) {
        truncated = true;
        break;
      }
      rows.push(row);
    }
    return { columns, rows, truncated, height };
  } finally {
    db.exec("COMMIT");
  }
}
