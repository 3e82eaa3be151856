// Storage schema 4 adds each reading's decoded values (reading_values) and readings by log position:
// a schema-3 file is migrated on open, its readings index rebuilt from the block bodies by recovery,
// with the same rows (log positions included) and the values filled. Schema 6 keys reading_values
// by the reading's place in the chain: a schema-5 file's rows are re-keyed in place, same answers.
import Database from "better-sqlite3";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { Chain } from "../../gateway/chain/chain.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { readingsIndexSql, schemaVersion } from "../../gateway/storage/schema.ts";
import { views } from "../../gateway/sql/views.ts";
import { sqlChain } from "./fixture.ts";

const dirs: string[] = [];

/** Every stored node of the devices' logs (up to 8 leaves each), hex. */
const logNodes = (store: ChainStore, ids: Uint8Array[]) =>
  ids.map((id) => {
    const out: (string | null)[] = [];
    for (let level = 0; level <= 3; level++) for (let i = 0; i < 8 >> level; i++) out.push(store.logNode(id, level, i) ? Buffer.from(store.logNode(id, level, i)!).toString("hex") : null);
    return out;
  });
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** What schema 6 had of the readings index: its three device-keyed indexes, none of schema 7's trees. */
const toSchema6 = (db: Database.Database) => db.exec(`DROP VIEW device_readings; DROP TABLE readings_recent; DROP TABLE readings_merged; DROP TABLE reading_devices; ${readingsIndexSql}`);

it("a schema-3 store is migrated in place: readings rebuilt with their log positions, values decoded", () => {
  const c = sqlChain({ devices: 2 });
  dirs.push(c.dir);
  c.block([{ device: 0, seq: 3 }, { device: 1, seq: 0 }, { device: 0, seq: 1 }]);
  c.block([{ device: 0, seq: 2, records: [{ name: "a", value: 1 }, { name: "b", stringValue: "x" }] }, { device: 1, seq: 1 }]);
  const dump = (db: Database.Database) => ({
    readings: db.prepare("SELECT hex(device) d, seq, received_ms, height, tx_idx, pos, hex(gateway) g, hex(digest) h, log_idx FROM readings ORDER BY device, seq").all(),
    values: db
      .prepare(
        "SELECT hex(r.device) d, r.seq, v.rec, v.name, v.unit, v.value, v.string_value, v.bool_value, v.time_s, v.height FROM reading_values v JOIN readings r ON v.height = r.height AND v.tx_idx = r.tx_idx AND v.pos = r.pos ORDER BY r.device, r.seq, v.rec",
      )
      .all(),
  });
  const before = dump(c.chain.store.db);
  expect(before.values.length).toBe(6);
  const logsBefore = logNodes(c.chain.store, c.devices.map((d) => d.id));
  const genesis = c.genesis;
  c.chain.store.close();
  // What a release before schema 4 left: no values, version 3.
  const db = new Database(join(c.dir, "chain.sqlite"));
  toSchema6(db);
  db.exec("DROP TABLE reading_values; DROP INDEX readings_by_log");
  db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(Buffer.of(3));
  db.close();
  const store = ChainStore.open(c.dir);
  expect(store.indexHeight()).toBe(-1);
  const chain = Chain.open(store, genesis);
  expect(store.indexHeight()).toBe(chain.head().height);
  expect(store.meta("schema_version")).toEqual(Uint8Array.of(schemaVersion));
  expect(dump(store.db)).toEqual(before);
  // The device logs, keyed by their readings' places, rebuilt once the readings index was.
  expect(store.meta("device_log_rebuild")).toBeUndefined();
  expect(logNodes(store, c.devices.map((d) => d.id))).toEqual(logsBefore);
  store.close();
});

it("a schema-5 store's readings, reading_values and device_log are re-keyed by place on open: same rows, same SQL answers, same log nodes", () => {
  const c = sqlChain({ devices: 3 });
  dirs.push(c.dir);
  c.block([{ device: 0, seq: 3 }, { device: 1, seq: 0 }, { device: 0, seq: 1 }, { device: 2, seq: 5, records: [{ name: "a", value: 1 }, { name: "b", boolValue: true }] }]);
  c.block([{ device: 0, seq: 2, records: [{ name: "a", value: 1 }, { name: "b", stringValue: "x" }, { name: "c", value: 2.5, unit: "V" }] }, { device: 1, seq: 1 }]);
  c.block([{ device: 2, seq: 6 }, { device: 0, seq: 4 }]);
  const genesis = c.genesis;
  const store0 = c.chain.store;
  const values = store0.db
    .prepare("SELECT r.device, r.seq, v.rec, v.name, v.unit, v.value, v.string_value, v.bool_value, v.time_s, v.height FROM reading_values v JOIN readings r ON v.height = r.height AND v.tx_idx = r.tx_idx AND v.pos = r.pos ORDER BY r.device, r.seq, v.rec")
    .all() as { device: Buffer; seq: number; rec: number; name: string; unit: string | null; value: number | null; string_value: string | null; bool_value: number | null; time_s: number | null; height: number }[];
  expect(values.length).toBe(11);
  const sql = (s: ChainStore) => {
    const out: unknown[] = [];
    const db = s.db;
    for (const v of views) if (v.name === "readings" || v.name === "reading_values") db.exec(`CREATE TEMP VIEW ${v.name} AS ${v.select}`);
    for (const d of c.devices) {
      out.push(db.prepare("SELECT hex(device), seq, rec, name, unit, value, string_value, bool_value, time_s, height FROM temp.reading_values WHERE device = ? ORDER BY seq, rec").all(Buffer.from(d.id)));
      out.push(db.prepare("SELECT hex(device), seq, received_ms, height, log_index, name, value FROM temp.readings WHERE device = ? ORDER BY seq").all(Buffer.from(d.id)));
    }
    db.exec("DROP VIEW temp.readings; DROP VIEW temp.reading_values");
    return out;
  };
  const answersBefore = sql(store0);
  const readingRows = (s: ChainStore) => s.db.prepare("SELECT * FROM readings ORDER BY device, seq").all();
  const readingsBefore = readingRows(store0);
  expect(readingsBefore.length).toBe(8);
  const logsBefore = logNodes(store0, c.devices.map((d) => d.id));
  expect(logsBefore.flat().filter((h) => h !== null).length).toBe(7 + 3 + 3); // 4 readings: 4 leaves, 2 pairs, 1 four; 2 readings: 2 leaves, 1 pair (twice)
  store0.close();

  // What schema 5 left: readings keyed (device, seq), values keyed (device, seq, rec), device_log
  // keyed (device, leaf index), readings by block on height alone.
  const db = new Database(join(c.dir, "chain.sqlite"));
  toSchema6(db);
  db.exec(`ALTER TABLE readings RENAME TO readings_v6;
CREATE TABLE readings (device BLOB NOT NULL, seq INTEGER NOT NULL, received_ms INTEGER NOT NULL, height INTEGER NOT NULL, tx_idx INTEGER NOT NULL, pos INTEGER NOT NULL, gateway BLOB NOT NULL, digest BLOB NOT NULL, log_idx INTEGER NOT NULL, PRIMARY KEY (device, seq)) WITHOUT ROWID;
INSERT INTO readings SELECT * FROM readings_v6; DROP TABLE readings_v6;
CREATE INDEX readings_by_time ON readings (device, received_ms); CREATE INDEX readings_by_block ON readings (height); CREATE INDEX readings_by_log ON readings (device, log_idx);
DROP TABLE reading_values;
CREATE TABLE reading_values (device BLOB NOT NULL, seq INTEGER NOT NULL, rec INTEGER NOT NULL, name TEXT NOT NULL, unit TEXT, value REAL, string_value TEXT, bool_value INTEGER, time_s REAL, height INTEGER NOT NULL, PRIMARY KEY (device, seq, rec)) WITHOUT ROWID;`);
  const put = db.prepare("INSERT INTO reading_values (device, seq, rec, name, unit, value, string_value, bool_value, time_s, height) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
  for (const v of values) put.run(v.device, v.seq, v.rec, v.name, v.unit, v.value, v.string_value, v.bool_value, v.time_s, v.height);
  db.exec(`CREATE TABLE device_log_v5 (device BLOB NOT NULL, idx INTEGER NOT NULL, hashes BLOB NOT NULL, PRIMARY KEY (device, idx)) WITHOUT ROWID;
INSERT INTO device_log_v5 SELECT r.device, r.log_idx, l.hashes FROM device_log l JOIN readings r ON r.height = l.height AND r.tx_idx = l.tx_idx AND r.pos = l.pos;
DROP TABLE device_log; ALTER TABLE device_log_v5 RENAME TO device_log;`);
  db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(Buffer.of(5));
  db.close();

  expect(() => ChainStore.open(c.dir, { readonly: true })).toThrowError(/schema version 5.*open it once writable/);
  const store = ChainStore.open(c.dir);
  expect(store.meta("schema_version")).toEqual(Uint8Array.of(schemaVersion));
  expect(store.indexHeight()).toBe(3); // re-keyed, not rebuilt
  const names = store.db.prepare("SELECT name FROM sqlite_schema WHERE tbl_name IN ('readings', 'reading_values') ORDER BY name").all();
  expect(names).toEqual([{ name: "reading_values" }, { name: "readings" }]); // schema 7: no device-keyed index of readings
  expect(readingRows(store)).toEqual(readingsBefore);
  expect(sql(store)).toEqual(answersBefore);
  expect(store.meta("device_log_rebuild")).toBeUndefined(); // re-keyed through the readings index
  expect(logNodes(store, c.devices.map((d) => d.id))).toEqual(logsBefore);
  const chain = Chain.open(store, genesis);
  expect(chain.head().height).toBe(3);
  store.close();
});

it("a schema-6 store's device-keyed indexes become schema 7's merged trees on open: same answers, and the chain carries on", () => {
  let c = sqlChain({ devices: 3 });
  dirs.push(c.dir);
  for (let b = 0; b < 5; b++) c.block([{ device: 0, seq: 2 * b + 1 }, { device: 1, seq: b }, { device: 0, seq: 2 * b }, { device: 2, seq: 10 + b, records: [{ name: "a", value: b }, { name: "b", boolValue: true }] }]);
  const answers = (s: ChainStore) => {
    const out: unknown[] = [];
    for (const v of views) if (v.name === "readings" || v.name === "reading_values") s.db.exec(`CREATE TEMP VIEW ${v.name} AS ${v.select}`);
    for (const d of c.devices) {
      out.push(s.indexes.readingsByDevice(d.id), s.indexes.deviceReadingCount(d.id), s.indexes.reading(d.id, 3), s.recordedReading(d.id, 1));
      out.push(s.db.prepare("SELECT hex(device), seq, received_ms, height, log_index, name, value FROM temp.readings WHERE device = ? ORDER BY seq").all(Buffer.from(d.id)));
      out.push(s.db.prepare("SELECT seq, rec, name, value, bool_value FROM temp.reading_values WHERE device = ? ORDER BY seq, rec").all(Buffer.from(d.id)));
    }
    s.db.exec("DROP VIEW temp.readings; DROP VIEW temp.reading_values");
    return out;
  };
  const before = answers(c.chain.store);
  const logsBefore = logNodes(c.chain.store, c.devices.map((d) => d.id));
  c.chain.store.close();
  const db = new Database(join(c.dir, "chain.sqlite"));
  toSchema6(db);
  db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(Buffer.of(6));
  db.close();

  expect(() => ChainStore.open(c.dir, { readonly: true })).toThrowError(/schema version 6.*open it once writable/);
  const store = ChainStore.open(c.dir);
  expect(store.meta("schema_version")).toEqual(Uint8Array.of(schemaVersion));
  expect(store.indexHeight()).toBe(5); // re-keyed, not rebuilt
  expect(store.db.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'readings'").all()).toEqual([]);
  expect(store.db.prepare("SELECT count(*) AS n FROM readings_merged").get()).toEqual({ n: 20 });
  expect(store.indexes.keys.recentCount()).toBe(0);
  expect(answers(store)).toEqual(before);
  expect(logNodes(store, c.devices.map((d) => d.id))).toEqual(logsBefore);
  store.close();
  // New blocks go through readings_recent and the merge as on a schema-7 file.
  c = sqlChain({ devices: 3, dir: c.dir });
  c.block([{ device: 1, seq: 5 }, { device: 0, seq: 10 }]);
  expect(c.chain.store.indexes.readingsByDevice(c.devices[1].id).map((r) => r.sequence)).toEqual([0, 1, 2, 3, 4, 5]);
  expect(c.chain.store.indexes.deviceReadingCount(c.devices[0].id)).toBe(11);
  c.chain.store.close();
});
