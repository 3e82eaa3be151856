// `mote sql "SELECT …"`: one read-only SELECT over the documented views of a gateway's index
// (POST /v1/sql; docs/sql.md). With --verify the answer carries proofs and is checked here from the
// network's genesis file and commit certificates alone (gateway/sql/verify.ts), so any gateway will
// do: a changed value, a forged row or a reading dropped from a --range fails with the row named.
//
//   mote sql "SELECT seq, value FROM readings WHERE device = ? AND seq BETWEEN ? AND ? ORDER BY seq" \
//     --param hex:6aceb7d8… --param 100 --param 200 --verify --genesis genesis.json --range 6aceb7d8…:100-200
import type { Command } from "commander";
import { readFileSync, writeFileSync } from "node:fs";
import type { DeclaredRange } from "../sql/prove.ts";
import type { SqlParam } from "../sql/run-statement.ts";
import type { VerifiedAnswerWire } from "../sql/verify.ts";
import { ApiClient } from "./api-client.ts";
import { apiOption } from "./chain-commands.ts";
import { UsageError } from "./errors.ts";
import { printJson, printTable } from "./output.ts";

/** --param: hex:<digits> is a BLOB, str:<text> a string, null/true/false, a decimal number, else a string. */
export function sqlParamArg(s: string, previous: SqlParam[] = []): SqlParam[] {
  let p: SqlParam;
  if (s.startsWith("hex:")) {
    const hex = s.slice(4).toLowerCase();
    if (!/^([0-9a-f]{2})*$/.test(hex)) throw new UsageError("BAD_ARGUMENT", `--param ${s}: a BLOB is hex:<an even number of hex digits>`);
    p = { hex };
  } else if (s.startsWith("str:")) p = s.slice(4);
  else if (s === "null") p = null;
  else if (s === "true" || s === "false") p = s === "true";
  else if (/^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$/.test(s)) p = Number(s);
  else p = s;
  return [...previous, p];
}

/** --range <device>:<from>-<to> */
export function sqlRangeArg(s: string, previous: DeclaredRange[] = []): DeclaredRange[] {
  const m = /^([0-9a-fA-F]{32}):([0-9]+)-([0-9]+)$/.exec(s);
  if (!m || Number(m[3]) < Number(m[2])) throw new UsageError("BAD_ARGUMENT", `--range ${s}: give <device id>:<first seq>-<last seq>, e.g. 6aceb7d884cd1b4e993a231ec8376ea4:100-200`);
  return [...previous, { device: m[1].toLowerCase(), from: Number(m[2]), to: Number(m[3]) }];
}

interface SqlFlags {
  api: string;
  param?: SqlParam[];
  range?: DeclaredRange[];
  limit?: number;
  verify?: boolean;
  genesis?: string;
  save?: string;
  answer?: string;
  json?: boolean;
}

export function registerSqlCommands(program: Command): void {
  program
    .command("sql <select>")
    .description("one read-only SELECT over the gateway's documented views (readings, reading_values, devices, blocks, transactions, contract_events; docs/sql.md); --verify checks the answer from the genesis file alone")
    .option("--param <value>", "a ? parameter, in order (repeat): hex:<digits> for a BLOB (device ids), str:<text>, a number, null, true/false", sqlParamArg)
    .option("--limit <rows>", "rows wanted", (s: string) => {
      if (!/^[1-9][0-9]*$/.test(s)) throw new UsageError("BAD_ARGUMENT", `--limit ${s}: give a positive whole number`);
      return Number(s);
    })
    .option("--verify", "ask for proofs and check them trusting only --genesis and commit certificates")
    .option("--genesis <file>", "the network's genesis.json (with --verify)")
    .option("--range <device:from-to>", "with --verify: prove the answer holds every reading of the device with a sequence in [from, to] (repeat)", sqlRangeArg)
    .option("--save <file>", "write the answer as received (JSON) to a file")
    .option("--answer <file>", "check a saved answer instead of asking a gateway (with --verify)")
    .option(...apiOption)
    .option("--json", "print JSON")
    .action(async (sql: string, o: SqlFlags) => {
      const params = o.param ?? [];
      const ranges = o.range ?? [];
      if (o.verify && !o.genesis) throw new UsageError("MISSING_GENESIS", "--verify checks the answer from the network's genesis file: pass --genesis <genesis.json>");
      if (!o.verify && (ranges.length > 0 || o.answer)) throw new UsageError("BAD_ARGUMENT", "--range and --answer are for --verify");
      const api = new ApiClient(o.api);
      const answer: VerifiedAnswerWire = o.answer
        ? JSON.parse(readFileSync(o.answer, "utf8"))
        : await api.post("v1/sql", { sql, params, ...(o.limit && { limit: o.limit }), ...(o.verify && { verify: true, ranges }) });
      if (o.save) writeFileSync(o.save, JSON.stringify(answer));
      let report;
      if (o.verify) {
        // Loaded only here: the verifier brings SQLite and the chain's codecs, which other commands do not need.
        const [{ genesisBlock, readGenesisFile }, { verifyAnswer }] = await Promise.all([import("../chain/genesis.ts"), import("../sql/verify.ts")]);
        const g = genesisBlock(readGenesisFile(o.genesis!));
        report = await verifyAnswer({ sql, params, ranges, answer, genesis: { header: g.header, validators: g.validators }, moreTransitions: (from) => api.get(`v1/epochs?from=${from}&limit=256`) });
      }
      if (o.json) return printJson({ columns: answer.columns, rows: answer.rows, truncated: answer.truncated, height: answer.height, ...(report && { verified: report }) });
      printTable(answer.columns, answer.rows);
      console.log(`${answer.rows.length} row${answer.rows.length === 1 ? "" : "s"} at height ${answer.height}${answer.truncated ? " (truncated at the limit: narrow the query)" : ""}`);
      if (report) {
        console.log(`verified from genesis: ${report.rows} rows against the certified state of height ${report.height}`);
        for (const r of report.ranges) console.log(`complete: device ${r.device} sequences ${r.from}..${r.to} hold ${r.readings} readings on chain, all in the answer`);
      }
    });
}
