// The statement guard: a statement is admitted only when SQLite itself says it is one read-only
// SELECT over the documented views, calling allowed functions. It is compiled (never run) on a
// sandbox: an in-memory connection whose only objects are empty TEMP tables shaped like the views
// (views.ts sandboxSql). There SQLite judges, not a regex:
//
//   one statement          better-sqlite3 refuses a string with a second statement
//   read-only SELECT       stmt.reader && stmt.readonly, and the statement begins with SELECT/WITH/VALUES
//                          (so not PRAGMA, EXPLAIN, ATTACH, BEGIN, INSERT..., which are refused)
//   names                  "no such table" for anything but a view; EXPLAIN's OpenRead opcodes must
//                          open the sandbox's TEMP tables (database 1), never a schema table (root
//                          page 1: sqlite_schema, sqlite_temp_schema)
//   functions              EXPLAIN's Function/AggStep opcodes name each function called: each must
//                          be on the list below (no zeroblob, randomblob, printf, replace: allocation
//                          bombs; no load_extension, sqlite_*); undefined ones fail to compile
//   virtual tables         VOpen opcodes (pragma_*, json_each...) are refused
//
// What it cannot bound (recursive CTEs, cross joins, group_concat over many rows) is bounded where
// it runs: a killable process with a time limit and SQLite's hard heap limit (runner-child.ts).
//
//   const guard = new StatementGuard();
//   const { columns } = guard.check("SELECT device, seq FROM readings WHERE seq > ?");
import Database from "better-sqlite3";
import { SqlError } from "./errors.ts";
import { sandboxSql } from "./views.ts";

/** Functions a statement may call (SQLite built-ins that allocate at most in proportion to their inputs). */
export const allowedFunctions = new Set([
  // aggregates and window functions
  "count", "sum", "total", "avg", "min", "max", "group_concat", "string_agg",
  "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead", "first_value", "last_value", "nth_value",
  // scalars
  "abs", "round", "sign", "sqrt", "pow", "power", "exp", "ln", "log", "log2", "log10", "floor", "ceil", "ceiling", "mod", "pi", "trunc",
  "length", "octet_length", "lower", "upper", "substr", "substring", "trim", "ltrim", "rtrim", "instr", "hex", "unhex", "quote", "typeof",
  "nullif", "like", "glob", "char", "unicode", "iif", "if", "coalesce", "ifnull",
  "date", "time", "datetime", "julianday", "strftime", "unixepoch", "timediff",
  "json", "json_extract", "json_array", "json_object", "json_array_length", "json_type", "json_valid", "->", "->>",
]);

const firstKeyword = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*([A-Za-z]+)/;

export interface ColumnOrigin {
  /** The answer's column name. */
  name: string;
  /** The view and view column it copies, when it is a plain column reference (SQLite's column metadata). */
  view: string | null;
  column: string | null;
}

export interface CheckedStatement {
  columns: ColumnOrigin[];
}

type ExplainRow = { opcode: string; p2: number; p3: number; p4: string | null };

function classify(e: Error): SqlError {
  const m = e.message;
  if (/more than one statement/i.test(m)) return new SqlError("SQL_MULTIPLE", "the text holds more than one statement: send one SELECT");
  if (/contains no statements/i.test(m)) return new SqlError("SQL_EMPTY", "no statement: send one SELECT over the documented views");
  if (/no such table/i.test(m)) return new SqlError("SQL_NAME", `${m}: a statement may read only the documented views (readings, reading_values, devices, blocks, transactions, contract_events; docs/sql.md)`);
  if (/no such function/i.test(m)) return new SqlError("SQL_FUNCTION", `${m}: functions allowed are SQLite's ${[...allowedFunctions].slice(0, 12).join(", ")}, ... (docs/sql.md)`);
  return new SqlError("SQL_SYNTAX", `SQLite cannot compile the statement: ${m}`);
}

export class StatementGuard {
  private readonly db: Database.Database;
  private readonly cache = new Map<string, CheckedStatement>();

  constructor(readonly textBytesMax = 16 * 1024) {
    this.db = new Database(":memory:");
    this.db.exec(sandboxSql());
    this.db.pragma("query_only = 1");
  }

  /** Admits `sql` with `params` positional parameters (? or ?NNN), or throws SqlError saying why not. */
  check(sql: string, params = 0): CheckedStatement {
    const key = `${params}:${sql}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    if (Buffer.byteLength(sql) > this.textBytesMax) throw new SqlError("SQL_TOO_LONG", `the statement is ${Buffer.byteLength(sql)} bytes; at most ${this.textBytesMax}`);
    let stmt: Database.Statement;
    try {
      stmt = this.db.prepare(sql);
    } catch (e) {
      throw classify(e as Error);
    }
    const keyword = firstKeyword.exec(sql)?.[1]?.toUpperCase();
    if (!stmt.reader || !stmt.readonly || !["SELECT", "WITH", "VALUES"].includes(keyword ?? "")) {
      throw new SqlError("SQL_NOT_SELECT", `only one read-only SELECT is run here; this statement is ${keyword ?? "not a SELECT"}${stmt.readonly ? "" : " (it writes)"}: writes, PRAGMA, ATTACH, EXPLAIN and transactions are refused`);
    }
    this.checkProgram(sql, params);
    const columns = stmt.columns().map((c) => ({ name: c.name, view: c.database === "temp" ? c.table : null, column: c.database === "temp" ? c.column : null }));
    const checked = { columns };
    if (this.cache.size > 1024) this.cache.clear();
    this.cache.set(key, checked);
    return checked;
  }

  /** What the compiled program opens and calls, from EXPLAIN (the program is not run). */
  private checkProgram(sql: string, params: number): void {
    let program: ExplainRow[];
    try {
      program = this.db.prepare(`EXPLAIN ${sql}`).all(...new Array(params).fill(null)) as ExplainRow[];
    } catch (e) {
      const m = (e as Error).message;
      if (/parameter/i.test(m)) throw new SqlError("SQL_PARAMS", `${m}: the statement's ? parameters and the ${params} given must match (named parameters are not supported)`);
      throw classify(e as Error);
    }
    for (const op of program) {
      switch (op.opcode) {
        case "OpenRead":
        case "OpenWrite":
        case "ReopenIdx":
          if (op.p3 !== 1 || op.p2 === 1) throw new SqlError("SQL_NAME", "a statement may read only the documented views, not the schema tables or other databases");
          break;
        case "VOpen":
        case "VFilter":
        case "VUpdate":
          throw new SqlError("SQL_VIRTUAL_TABLE", "table-valued functions and virtual tables (pragma_*, json_each, ...) are refused: read the documented views");
        case "Pragma":
          throw new SqlError("SQL_NOT_SELECT", "PRAGMA is refused");
        case "Function":
        case "PureFunc":
        case "AggStep":
        case "AggStep1":
        case "AggFinal":
        case "AggValue":
        case "AggInverse": {
          const name = /^(.+?)\(-?\d+\)$/.exec(op.p4 ?? "")?.[1]?.toLowerCase() ?? "";
          if (!allowedFunctions.has(name)) throw new SqlError("SQL_FUNCTION", `function ${name || op.p4} is not allowed: allowed are SQLite's math, string, date, JSON, aggregate and window functions that allocate in proportion to their inputs (docs/sql.md)`);
          break;
        }
      }
    }
  }

  close(): void {
    this.db.close();
  }
}
