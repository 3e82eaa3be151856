// Typed errors of the SQL engine: what was refused or stopped, and what to do instead.
import { MoteError } from "../../shared/errors.ts";

export type SqlErrorCode =
  | "SQL_EMPTY" // no statement
  | "SQL_SYNTAX" // SQLite could not compile it (syntax, unknown column or view)
  | "SQL_MULTIPLE" // more than one statement
  | "SQL_NOT_SELECT" // a write, DDL, PRAGMA, ATTACH, transaction control: anything but one SELECT
  | "SQL_NAME" // a table or view that is not one of the documented views (sqlite_schema, raw tables)
  | "SQL_FUNCTION" // a function outside the allowed list
  | "SQL_VIRTUAL_TABLE" // table-valued functions (pragma_*, json_each...)
  | "SQL_PARAMS" // parameters do not fit the statement
  | "SQL_TOO_LONG" // statement text over sqlTextBytesMax
  | "SQL_TIMEOUT" // ran past the time limit: the process running it was killed
  | "SQL_MEMORY" // past SQLite's heap limit
  | "SQL_BUSY" // every runner busy and the queue full
  | "SQL_RUNNER" // the runner process failed
  | "SQL_NOT_PROVABLE" // verify asked of an answer that carries no provable rows
  | "SQL_RANGE_TOO_LARGE" // a completeness proof over more log leaves than allowed
  | "SQL_CHAIN_MOVING"; // the chain kept moving between the query and its proofs

export class SqlError extends MoteError {
  declare readonly code: SqlErrorCode;
  constructor(code: SqlErrorCode, message: string) {
    super(code, message);
  }
}

/** Why a verified answer does not verify; `row` is the 0-based row of the answer when one is at fault. */
export type SqlVerifyCode =
  | "VERIFY_COLUMNS" // the answer's columns are not the query's
  | "VERIFY_UNPROVABLE" // a column or row the proofs cannot cover
  | "VERIFY_HEAD" // the head or its certificate do not check from genesis
  | "VERIFY_DEVICE" // a device record's state proof fails
  | "VERIFY_ROW" // a row's values differ from what its proof proves
  | "VERIFY_RANGE" // a completeness proof fails
  | "VERIFY_MISSING" // a reading inside a declared range is missing from the answer
  | "VERIFY_TRUNCATED"; // the answer was cut by the row limit: completeness cannot hold

export class SqlVerifyError extends MoteError {
  declare readonly code: SqlVerifyCode;
  constructor(
    code: SqlVerifyCode,
    message: string,
    readonly row?: number,
  ) {
    super(code, message);
  }
}
