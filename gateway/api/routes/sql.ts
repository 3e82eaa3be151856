// POST /v1/sql: one read-only SELECT over the documented views of the index (docs/sql.md), with
// parameters bound and time, row and byte limits; with `verify`, the answer carries proofs a client
// checks from the genesis file alone (gateway/sql/verify.ts, `mote sql --verify`). A thin adapter:
// the engine is gateway/sql/service.ts.
import type { ApiContext } from "../context.ts";
import { ApiError } from "../errors.ts";
import { errorResponse, type JsonSchema, type RouteSpec } from "../route-spec.ts";
import { SqlError } from "../../sql/errors.ts";
import { sqlDefaults } from "../../sql/options.ts";
import { SqlService } from "../../sql/service.ts";
import { views } from "../../sql/views.ts";

// One engine per API context (its runner processes start with the first statement and end with
// the gateway: they exit when their parent's IPC channel closes).
const services = new WeakMap<ApiContext, SqlService>();
function service(ctx: ApiContext): SqlService {
  let s = services.get(ctx);
  if (!s) {
    try {
      s = new SqlService(ctx.chain);
    } catch (e) {
      if (e instanceof SqlError) throw new ApiError(503, e.code, e.message);
      throw e;
    }
    services.set(ctx, s);
  }
  return s;
}

const statusOf: Partial<Record<SqlError["code"], number>> = { SQL_NOT_PROVABLE: 422, SQL_RANGE_TOO_LARGE: 422, SQL_BUSY: 503, SQL_RUNNER: 503, SQL_CHAIN_MOVING: 503 };

const param: JsonSchema = {
  anyOf: [{ type: "string", maxLength: 4096 }, { type: "number" }, { type: "boolean" }, { type: "null" }, { type: "object", required: ["hex"], additionalProperties: false, properties: { hex: { type: "string", pattern: "^([0-9a-fA-F]{2})*$", maxLength: 8192 } } }],
};
const range: JsonSchema = {
  type: "object",
  required: ["device", "from", "to"],
  additionalProperties: false,
  properties: { device: { type: "string", pattern: "^[0-9a-f]{32}$" }, from: { type: "integer", minimum: 0 }, to: { type: "integer", minimum: 0 } },
};
const value: JsonSchema = { anyOf: [{ type: "string" }, { type: "number" }, { type: "null" }] };

export const sqlAnswerSchema: JsonSchema = {
  type: "object",
  required: ["columns", "rows", "truncated", "height", "elapsedMs"],
  properties: {
    columns: { type: "array", items: { type: "string" } },
    rows: { type: "array", items: { type: "array", items: value }, description: "INTEGER and REAL as numbers (integers past 2^53 as decimal strings), TEXT as strings, BLOB as lower-case hex" },
    truncated: { type: "boolean", description: "true when the statement had more rows or bytes than the limits: `rows` is the first part" },
    height: { type: "integer", description: "the block height the index held in the snapshot the statement read" },
    elapsedMs: { type: "number" },
    proof: {
      type: "object",
      description: "with verify: `head` (header and commit certificate every proof is against), `epochs` (the light-client walk from genesis, as in a reading's provenance), `devices` (each device record with its sparse Merkle proof), `ranges` (per declared range: size of the device's log, `first` index, consecutive `leaves` and the `siblings` outside them), `rows` (per row: the reading's COSE bytes, log leaf fields, log index and audit path, null when a range holds the leaf; or a block's header and certificate). docs/sql.md describes the checks.",
    },
  },
};

export function sqlRoutes(ctx: ApiContext): RouteSpec[] {
  const o = sqlDefaults;
  return [
    {
      method: "POST",
      url: "/v1/sql",
      operationId: "sqlQuery",
      tag: "sql",
      summary: "One read-only SELECT over the documented views of the index, with limits; with verify, proofs checkable from the genesis file",
      description: `Views: ${views.map((v) => v.name).join(", ")} (docs/sql.md lists their columns). One statement, a SELECT (or WITH … SELECT, VALUES), read-only, over the views only, calling SQLite's math, string, date, JSON, aggregate and window functions: anything else is refused with 400 and a code saying why (SQL_NOT_SELECT, SQL_MULTIPLE, SQL_NAME, SQL_FUNCTION, SQL_VIRTUAL_TABLE, SQL_SYNTAX, SQL_PARAMS). Parameters are positional (?); a BLOB parameter is {"hex": "…"}. Limits: ${o.timeMs} ms (the statement's process is killed: SQL_TIMEOUT), ${o.rowsMax} rows and ${o.bytesMax / 1048576} MiB (the answer is cut, truncated: true), ${o.memoryBytesMax / 1048576} MiB of memory per runner process (SQL_MEMORY). With \`verify\` (at most ${o.verifiedRowsMax} rows), every column must be a plain column of readings, reading_values, devices or blocks, with the view's identity columns (device and seq; device, seq and rec; id; height), else 422 SQL_NOT_PROVABLE. \`ranges\` (with verify) asks for proofs that the answer holds every reading of a device with a sequence in [from, to].`,
      body: {
        type: "object",
        required: ["sql"],
        additionalProperties: false,
        properties: {
          sql: { type: "string", minLength: 1, maxLength: o.textBytesMax, description: "one SELECT over the views" },
          params: { type: "array", maxItems: o.paramsMax, items: param },
          limit: { type: "integer", minimum: 1, maximum: o.rowsMax, description: "rows wanted" },
          verify: { type: "boolean", default: false },
          ranges: { type: "array", maxItems: o.rangesMax, items: range },
        },
      },
      bodyLimit: 64 * 1024,
      responses: {
        200: { description: "the answer", schema: sqlAnswerSchema },
        400: errorResponse("refused (not one read-only SELECT over the views, a disallowed function, bad parameters) or stopped by a limit (SQL_TIMEOUT, SQL_MEMORY)"),
        422: errorResponse("verify asked of an answer that cannot be proven, or a range too wide to prove"),
        503: errorResponse("every SQL runner busy, or the chain kept moving between the statement and its proofs: retry"),
      },
      handler: async (req: { body: { sql: string; params?: never[]; limit?: number; verify?: boolean; ranges?: { device: string; from: number; to: number }[] } }) => {
        try {
          return await service(ctx).query(req.body);
        } catch (e) {
          if (e instanceof SqlError) throw new ApiError(statusOf[e.code] ?? 400, e.code, e.message, statusOf[e.code] === 503 ? 1 : undefined);
          throw e;
        }
      },
    },
  ];
}
