// SQL over the index, as a service the HTTP route (gateway/api/routes/sql.ts), tests and the bench
// share: guard (guard.ts) → a runner process with limits (pool.ts) → with `verify`, proofs at the
// head the statement read (prove.ts).
//
//   const sql = new SqlService(chain);
//   const answer = await sql.query({ sql: "SELECT seq, value FROM readings WHERE device = ? ORDER BY seq", params: [{ hex: id }] });
import type { Chain } from "../chain/chain.ts";
import { SqlError } from "./errors.ts";
import { StatementGuard } from "./guard.ts";
import { sqlDefaults, type SqlOptions } from "./options.ts";
import { RunnerPool } from "./pool.ts";
import { proveAnswer, provableGroups, type DeclaredRange, type SqlProof } from "./prove.ts";
import type { RunAnswer, SqlParam } from "./run-statement.ts";

export interface SqlRequest {
  sql: string;
  params?: SqlParam[];
  /** Rows wanted, at most the engine's rowsMax (verifiedRowsMax with verify). */
  limit?: number;
  verify?: boolean;
  /** With verify: device sequence ranges to prove complete. */
  ranges?: DeclaredRange[];
}

export interface SqlAnswer extends RunAnswer {
  elapsedMs: number;
  proof?: SqlProof;
}

/** Attempts at catching the head still when the chain moves between a statement and its proofs. */
const proveAttemptsMax = 4;

export class SqlService {
  readonly options: SqlOptions;
  private readonly guard: StatementGuard;
  private readonly pool: RunnerPool;

  constructor(
    private readonly chain: Chain,
    options: Partial<SqlOptions> = {},
  ) {
    this.options = { ...sqlDefaults, ...options };
    if (chain.store.path === ":memory:") throw new SqlError("SQL_RUNNER", "SQL runs on the chain database file: this chain is in memory");
    this.guard = new StatementGuard(this.options.textBytesMax);
    this.pool = new RunnerPool(chain.store.path, this.options);
  }

  /** Starts the runner processes now rather than at the first statement. */
  warm(): Promise<void> {
    return this.pool.warm();
  }

  /** Statements stopped by the time limit since start. */
  get killed(): number {
    return this.pool.killed;
  }

  private checkRequest(req: SqlRequest): { params: SqlParam[]; ranges: DeclaredRange[] } {
    const o = this.options;
    const params = req.params ?? [];
    const ranges = req.ranges ?? [];
    if (params.length > o.paramsMax) throw new SqlError("SQL_PARAMS", `${params.length} parameters; at most ${o.paramsMax}`);
    for (const [i, p] of params.entries()) {
      if (p !== null && typeof p === "object" && !(typeof p.hex === "string" && /^([0-9a-fA-F]{2})*$/.test(p.hex))) throw new SqlError("SQL_PARAMS", `parameter ${i + 1}: a BLOB is {"hex": "<even number of hex digits>"}`);
    }
    if (ranges.length > 0 && !req.verify) throw new SqlError("SQL_PARAMS", "ranges are proofs: pass verify too");
    if (ranges.length > o.rangesMax) throw new SqlError("SQL_PARAMS", `${ranges.length} ranges; at most ${o.rangesMax}`);
    for (const r of ranges) {
      if (!/^[0-9a-f]{32}$/.test(r.device) || !Number.isSafeInteger(r.from) || !Number.isSafeInteger(r.to) || r.from < 0 || r.to < r.from) throw new SqlError("SQL_PARAMS", `range ${JSON.stringify(r)}: give a device id (32 lower-case hex digits) and 0 ≤ from ≤ to`);
    }
    return { params, ranges };
  }

  async query(req: SqlRequest): Promise<SqlAnswer> {
    const started = performance.now();
    const { params, ranges } = this.checkRequest(req);
    const checked = this.guard.check(req.sql, params.length);
    const o = this.options;
    const rowsMax = Math.min(req.limit ?? Number.MAX_SAFE_INTEGER, req.verify ? o.verifiedRowsMax : o.rowsMax);
    const groups = req.verify ? provableGroups(checked.columns, (m) => new SqlError("SQL_NOT_PROVABLE", `verify: ${m}`)) : [];
    for (let attempt = 1; ; attempt++) {
      const answer = await this.pool.run({ sql: req.sql, params, rowsMax, bytesMax: o.bytesMax });
      if (!req.verify) return { ...answer, elapsedMs: performance.now() - started };
      // Proofs are made at the head; the statement must have read that same height (the state and
      // the devices view change with every block). Between awaits the head does not move.
      if (answer.height === this.chain.head().height) {
        const proof = proveAnswer(this.chain, answer, groups, ranges, o);
        return { ...answer, proof, elapsedMs: performance.now() - started };
      }
      if (attempt >= proveAttemptsMax) throw new SqlError("SQL_CHAIN_MOVING", `the chain moved on during each of ${attempt} attempts to prove the answer; try again`);
    }
  }

  close(): void {
    this.pool.close();
    this.guard.close();
  }
}
