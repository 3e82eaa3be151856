// The documented views of SQL over the index (docs/sql.md lists them for users): the only names a
// statement may use. They are TEMP views created on each runner's read-only connection over the
// chain database's own tables (gateway/storage/schema.ts), so a view costs nothing to keep and
// always shows the runner's snapshot. A TEMP name shadows a main table of the same name
// (`readings`), and the guard (guard.ts) refuses any name that is not a view.
//
// Types: ids, hashes and digests are BLOBs (an answer shows them as lower-case hex; compare with
// x'…', unhex('…') or a {"hex": "…"} parameter, which keeps the primary keys usable).
import type Database from "better-sqlite3";
import { decode } from "../../shared/cbor.ts";
import { txKinds } from "../../shared/tx-body.ts";
import { deviceCodec, deviceStatus, type Device } from "../chain/records.ts";

export interface ViewColumn {
  name: string;
  /** SQLite type as the view yields it. */
  type: "INTEGER" | "REAL" | "TEXT" | "BLOB";
  doc: string;
}

export interface ViewSpec {
  name: string;
  doc: string;
  columns: ViewColumn[];
  /** The SELECT behind the view, over main.<table>. */
  select: string;
  /** How an answer's rows from this view are proven (verify): see prove.ts. */
  provable: "reading" | "reading-value" | "device" | "block" | null;
}

const col = (name: string, type: ViewColumn["type"], doc: string): ViewColumn => ({ name, type, doc });

const kindName = `CASE kind ${Object.entries(txKinds)
  .map(([k, v]) => `WHEN ${v} THEN '${k}'`)
  .join(" ")} END`;
const statusName = `CASE mote_device(value, 'status') ${Object.entries(deviceStatus)
  .map(([k, v]) => `WHEN ${v} THEN '${k}'`)
  .join(" ")} END`;

const readingColumns = [
  col("device", "BLOB", "device id (16 bytes)"),
  col("seq", "INTEGER", "the device's sequence number (signed by the device)"),
  col("received_ms", "INTEGER", "when the gateway received it, Unix ms (co-signed by the gateway)"),
  col("height", "INTEGER", "block that recorded it"),
  col("gateway", "BLOB", "gateway that co-signed and submitted it (16 bytes)"),
  col("digest", "BLOB", "SHA-256 of the COSE_Sign1 bytes"),
  col("log_index", "INTEGER", "position in the device's reading log (arrival order on chain)"),
];
const valueColumns = [
  col("name", "TEXT", "SenML name (base name resolved)"),
  col("unit", "TEXT", "SenML unit, or NULL"),
  col("value", "REAL", "numeric value, or NULL"),
  col("string_value", "TEXT", "string value, or NULL"),
  col("bool_value", "INTEGER", "boolean value 0/1, or NULL"),
];

export const views: ViewSpec[] = [
  {
    name: "readings",
    doc: "One row per finalized reading, with its first SenML record decoded (reading_values has every record).",
    columns: [...readingColumns, ...valueColumns],
    select: `SELECT r.device AS device, r.seq AS seq, r.received_ms AS received_ms, r.height AS height, r.gateway AS gateway, r.digest AS digest, r.log_idx AS log_index,
      v.name AS name, v.unit AS unit, v.value AS value, v.string_value AS string_value, v.bool_value AS bool_value
      FROM main.device_readings r LEFT JOIN main.reading_values v ON v.height = r.height AND v.tx_idx = r.tx_idx AND v.pos = r.pos AND v.rec = 0`,
    provable: "reading",
  },
  {
    name: "reading_values",
    doc: "One row per SenML record of each finalized reading.",
    columns: [col("device", "BLOB", "device id"), col("seq", "INTEGER", "sequence number"), col("rec", "INTEGER", "record's index in the SenML pack, from 0"), ...valueColumns, col("time_s", "REAL", "SenML time (seconds), when the record has one"), col("height", "INTEGER", "block that recorded the reading")],
    // Values are keyed by the reading's place in the chain (storage schema 6): device and seq come
    // from its readings row, so a device's values are found through device_readings' (device, seq)
    // (storage schema 7: readings_merged and readings_recent, reading-keys.ts).
    select: `SELECT r.device AS device, r.seq AS seq, v.rec AS rec, v.name AS name, v.unit AS unit, v.value AS value, v.string_value AS string_value, v.bool_value AS bool_value,
      v.time_s AS time_s, v.height AS height
      FROM main.device_readings r JOIN main.reading_values v ON v.height = r.height AND v.tx_idx = r.tx_idx AND v.pos = r.pos`,
    provable: "reading-value",
  },
  {
    name: "devices",
    doc: "Devices enrolled on chain, from the state at the runner's snapshot.",
    columns: [
      col("id", "BLOB", "device id"),
      col("owner", "BLOB", "owner account id"),
      col("public_key", "BLOB", "Ed25519 public key (32 bytes)"),
      col("status", "TEXT", "active, revoked or quarantined"),
      col("last_seq", "INTEGER", "highest sequence on chain, -1 before the first"),
      col("readings", "INTEGER", "readings on chain (the size of its log)"),
      col("enrolled_height", "INTEGER", "block that enrolled it"),
      col("ttl_days", "INTEGER", "retention policy in days (0: forever)"),
      col("metadata", "TEXT", "metadata as a JSON object"),
    ],
    select: `SELECT unhex(substr(key, 8)) AS id, mote_device(value, 'owner') AS owner, mote_device(value, 'publicKey') AS public_key, ${statusName} AS status,
      mote_device(value, 'lastSequence') AS last_seq, mote_device(value, 'readings') AS readings, mote_device(value, 'enrolledHeight') AS enrolled_height,
      mote_device(value, 'ttlDays') AS ttl_days, mote_device(value, 'metadata') AS metadata
      FROM main.state WHERE key > 'device/' AND key < 'device0' AND length(key) = 39`,
    provable: "device",
  },
  {
    name: "blocks",
    doc: "Finalized blocks.",
    columns: [
      col("height", "INTEGER", "height"),
      col("hash", "BLOB", "SHA-256 of the header"),
      col("previous_hash", "BLOB", "parent's hash"),
      col("time_ms", "INTEGER", "block time, Unix ms"),
      col("tx_count", "INTEGER", "transactions in the block"),
      col("certified", "INTEGER", "1 when this gateway holds its commit certificate"),
    ],
    select: "SELECT height, hash, previous_hash, time_ms, (SELECT count(*) FROM main.txs t WHERE t.height = b.height) AS tx_count, certificate IS NOT NULL AS certified FROM main.blocks b",
    provable: "block",
  },
  {
    name: "transactions",
    doc: "Finalized transactions.",
    columns: [
      col("id", "BLOB", "transaction id"),
      col("height", "INTEGER", "block"),
      col("tx_index", "INTEGER", "position in the block"),
      col("kind", "TEXT", "transfer, stake, readingBatch, enrollDevice, ..."),
      col("kind_code", "INTEGER", "the kind's type number (shared/tx-body.ts)"),
      col("author", "BLOB", "signing account"),
      col("counterparty", "BLOB", "recipient of a transfer, device of a revocation or report; else NULL"),
    ],
    select: `SELECT id, height, idx AS tx_index, ${kindName} AS kind, kind AS kind_code, author, counterparty FROM main.txs`,
    provable: null,
  },
  {
    name: "contract_events",
    doc: "Events emitted by contract runs (gateway/contracts), in chain order.",
    columns: [
      col("contract", "BLOB", "contract id"),
      col("height", "INTEGER", "block"),
      col("tx_index", "INTEGER", "transaction in the block"),
      col("run_index", "INTEGER", "run within the transaction"),
      col("event_index", "INTEGER", "event within the run"),
      col("position", "INTEGER", "the triggering reading's position in its batch; NULL for a call"),
      col("topic", "BLOB", "topic bytes"),
      col("data", "BLOB", "data bytes"),
    ],
    select: "SELECT contract, height, tx_idx AS tx_index, run_idx AS run_index, ev_idx AS event_index, pos AS position, topic, data FROM main.contract_events",
    provable: null,
  },
];

export const viewByName = new Map(views.map((v) => [v.name, v]));

/** DDL for the runner's connection: the views over the chain database. */
export function viewsSql(): string {
  return views.map((v) => `CREATE TEMP VIEW ${v.name} (${v.columns.map((c) => c.name).join(", ")}) AS ${v.select};`).join("\n");
}

/** DDL for the guard's empty sandbox: a TEMP table shaped like each view (nothing else exists there). */
export function sandboxSql(): string {
  return views.map((v) => `CREATE TEMP TABLE ${v.name} (${v.columns.map((c) => `${c.name} ${c.type}`).join(", ")});`).join("\n");
}

/** The device record's fields the devices view shows, decoded once per distinct record. */
export function registerViewFunctions(db: Database.Database): void {
  let lastBytes: Buffer | undefined;
  let last: Device | undefined;
  db.function("mote_device", { deterministic: true, safeIntegers: false }, (value: unknown, field: unknown) => {
    if (!Buffer.isBuffer(value) || typeof field !== "string") return null;
    if (!lastBytes || !lastBytes.equals(value)) {
      last = deviceCodec.from(decode(new Uint8Array(value)));
      lastBytes = Buffer.from(value);
    }
    const d = last!;
    switch (field) {
      case "owner": return Buffer.from(d.owner);
      case "publicKey": return Buffer.from(d.publicKey);
      case "status": return d.status;
      case "lastSequence": return d.lastSequence;
      case "readings": return d.readings;
      case "enrolledHeight": return d.enrolledHeight;
      case "ttlDays": return d.ttlDays;
      case "metadata": return JSON.stringify(Object.fromEntries(d.metadata));
      default: return null;
    }
  });
}
