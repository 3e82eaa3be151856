// A runner process: one read-only connection to the chain database, one statement at a time.
// The statement runs here and not in the gateway because only a process can be stopped in the
// middle of a statement: better-sqlite3 has no progress handler or sqlite3_interrupt, and
// Worker.terminate() does not stop a thread stuck in SQLite (measured: a recursive CTE kept its
// worker, and the process, alive 5 s after terminate()). The pool (pool.ts) SIGKILLs us on time.
//
//   argv: <chain.sqlite path>          (its memory is limited by the pool: ulimit -d)
//   in:  { id, sql, params, rowsMax, bytesMax }     out: { id, answer } | { id, error: { code, message } }
import { openReadConnection, runStatement, type RunRequest } from "./run-statement.ts";

const [path] = process.argv.slice(2);
const db = openReadConnection(path);

process.on("message", (m: RunRequest & { id: number }) => {
  try {
    process.send!({ id: m.id, answer: runStatement(db, m) });
  } catch (e) {
    const message = (e as Error).message;
    const code = /out of memory|SQLITE_NOMEM/i.test(message) ? "SQL_MEMORY" : /parameter/i.test(message) ? "SQL_PARAMS" : "SQL_SYNTAX";
    process.send!({ id: m.id, error: { code, message } });
  }
});
process.on("disconnect", () => process.exit(0));
process.send!({ ready: true });
