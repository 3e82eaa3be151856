// Storage schema 7 finds a device's readings through readings_merged and readings_recent
// (reading-keys.ts), read through the device_readings view. Every device query in the gateway must
// stay an index look-up: SQLite's EXPLAIN QUERY PLAN for each of them (found in the sources, so a
// new query is checked too) may search but never scan readings or its device-keyed trees.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { expirySchemaSql } from "../../gateway/storage/expiry-store.ts";
import { views } from "../../gateway/sql/views.ts";

const sources = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith(".ts") ? [p] : [];
  });

/** Every SQL string literal of the gateway that reads device_readings. */
const deviceQueries = sources("gateway").flatMap((p) => [...readFileSync(p, "utf8").matchAll(/"((?:SELECT|DELETE)[^"]*device_readings[^"]*)"/g)].map((m) => ({ file: p, sql: m[1] })));

const plan = (store: ChainStore, sql: string): string[] => {
  const st = store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`);
  const params = (sql.match(/\?/g) ?? []).map(() => 1);
  return st.all(...params).map((r) => (r as { detail: string }).detail);
};
/** A scan of a table or index; scanning device_readings is reading the rows its arms searched for. */
const scans = (lines: string[]) => lines.filter((l) => /^SCAN /.test(l) && !/^SCAN (CONSTANT ROW|device_readings)$/.test(l));

it("every device query of the gateway searches the device-keyed trees, no scan", () => {
  const store = ChainStore.open(":memory:");
  store.db.exec(expirySchemaSql);
  expect(deviceQueries.length).toBeGreaterThanOrEqual(20);
  for (const q of deviceQueries) expect({ ...q, scans: scans(plan(store, q.sql)) }).toEqual({ ...q, scans: [] });
  store.close();
});

it("the readings and reading_values SQL views answer by device and by block with look-ups", () => {
  const store = ChainStore.open(":memory:");
  for (const v of views) if (v.name === "readings" || v.name === "reading_values") store.db.exec(`CREATE TEMP VIEW ${v.name} AS ${v.select}`);
  for (const sql of [
    "SELECT seq, value FROM temp.readings WHERE device = ? ORDER BY seq",
    "SELECT seq, value FROM temp.readings WHERE device = ? AND seq BETWEEN ? AND ?",
    "SELECT seq, value FROM temp.readings WHERE height = ?",
    "SELECT seq, rec, value FROM temp.reading_values WHERE device = ? AND seq = ?",
    "SELECT seq, rec, value FROM temp.reading_values WHERE height = ?",
  ])
    expect({ sql, scans: scans(plan(store, sql)) }).toEqual({ sql, scans: [] });
  store.close();
});
