// Storage schema 4 adds each reading's decoded values (reading_values) and readings by log position:
// a schema-3 file is migrated on open, its readings index rebuilt from the block bodies by recovery,
// with the same rows (log positions included) and the values filled.
import Database from "better-sqlite3";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { Chain } from "../../gateway/chain/chain.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { schemaVersion } from "../../gateway/storage/schema.ts";
import { sqlChain } from "./fixture.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

it("a schema-3 store is migrated in place: readings rebuilt with their log positions, values decoded", () => {
  const c = sqlChain({ devices: 2 });
  dirs.push(c.dir);
  c.block([{ device: 0, seq: 3 }, { device: 1, seq: 0 }, { device: 0, seq: 1 }]);
  c.block([{ device: 0, seq: 2, records: [{ name: "a", value: 1 }, { name: "b", stringValue: "x" }] }, { device: 1, seq: 1 }]);
  const dump = (db: Database.Database) => ({
    readings: db.prepare("SELECT hex(device) d, seq, received_ms, height, tx_idx, pos, hex(gateway) g, hex(digest) h, log_idx FROM readings ORDER BY device, seq").all(),
    values: db.prepare("SELECT hex(device) d, seq, rec, name, unit, value, string_value, bool_value, time_s, height FROM reading_values ORDER BY device, seq, rec").all(),
  });
  const before = dump(c.chain.store.db);
  expect(before.values.length).toBe(6);
  const genesis = c.genesis;
  c.chain.store.close();
  // What a release before schema 4 left: no values, version 3.
  const db = new Database(join(c.dir, "chain.sqlite"));
  db.exec("DROP TABLE reading_values; DROP INDEX readings_by_log");
  db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(Buffer.of(3));
  db.close();
  const store = ChainStore.open(c.dir);
  expect(store.indexHeight()).toBe(-1);
  const chain = Chain.open(store, genesis);
  expect(store.indexHeight()).toBe(chain.head().height);
  expect(store.meta("schema_version")).toEqual(Uint8Array.of(schemaVersion));
  expect(dump(store.db)).toEqual(before);
  store.close();
});
