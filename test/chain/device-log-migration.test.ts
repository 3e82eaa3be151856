// Storage schema 5 keeps a device log as one row per append (gateway/storage/device-log-store.ts)
// instead of one per node: a schema-4 file is regrouped in place on open, with the same hashes,
// so every stored node and every reading proof reads as before; read-only it is refused with the
// way out in the message.
import Database from "better-sqlite3";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { Chain } from "../../gateway/chain/chain.ts";
import { proveReading, verifyReadingPresent } from "../../gateway/chain/reading-proof.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { completedBy } from "../../gateway/storage/device-log-store.ts";
import { StorageError } from "../../gateway/storage/errors.ts";
import { schemaVersion } from "../../gateway/storage/schema.ts";
import { sqlChain } from "../sql/fixture.ts";

const dirs: string[] = [];
// A device's appends by leaf index, through the readings index (device_log is keyed by place since schema 6).
const logRowsSql = "SELECT hex(r.device) d, r.log_idx idx, hex(l.hashes) h FROM device_log l JOIN readings r ON r.height = l.height AND r.tx_idx = l.tx_idx AND r.pos = l.pos ORDER BY r.device, r.log_idx";
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

it("a schema-4 store's node rows are regrouped per append on open: same nodes, same proofs", () => {
  const c = sqlChain({ devices: 2 });
  dirs.push(c.dir);
  // 13 readings for device 0 (subtrees up to level 3), 2 for device 1, over three blocks.
  c.block(Array.from({ length: 5 }, (_, i) => ({ device: 0, seq: i })));
  c.block([...Array.from({ length: 6 }, (_, i) => ({ device: 0, seq: 5 + i })), { device: 1, seq: 0 }]);
  c.block([{ device: 0, seq: 11 }, { device: 1, seq: 1 }, { device: 0, seq: 12 }]);
  const store0 = c.chain.store;
  const nodes: { device: Buffer; level: number; idx: number; hash: Buffer }[] = [];
  for (const [d, size] of [[c.devices[0].id, 13], [c.devices[1].id, 2]] as const) {
    for (let level = 0; 2 ** level <= size; level++) {
      for (let idx = 0; (idx + 1) * 2 ** level <= size; idx++) nodes.push({ device: Buffer.from(d), level, idx, hash: Buffer.from(store0.logNode(d, level, idx)!) });
    }
  }
  expect(nodes.length).toBe(13 + 6 + 3 + 1 + 2 + 1);
  const rowsBefore = store0.db.prepare(logRowsSql).all();
  expect(rowsBefore.length).toBe(15);
  const genesis = c.genesis;
  store0.close();

  // What schema 4 left: a row per node, keyed (device, level, idx).
  const db = new Database(join(c.dir, "chain.sqlite"));
  db.exec("DROP TABLE device_log; CREATE TABLE device_log (device BLOB NOT NULL, level INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, PRIMARY KEY (device, level, idx)) WITHOUT ROWID;");
  const put = db.prepare("INSERT INTO device_log (device, level, idx, hash) VALUES (?, ?, ?, ?)");
  for (const n of nodes) put.run(n.device, n.level, n.idx, n.hash);
  db.prepare("UPDATE meta SET value = ? WHERE key = 'schema_version'").run(Buffer.of(4));
  db.close();

  expect(() => ChainStore.open(c.dir, { readonly: true })).toThrowError(/schema version 4.*open it once writable/);
  expect(() => ChainStore.open(c.dir, { readonly: true })).toThrowError(StorageError);

  const store = ChainStore.open(c.dir);
  expect(store.meta("schema_version")).toEqual(Uint8Array.of(schemaVersion));
  expect(store.db.prepare(logRowsSql).all()).toEqual(rowsBefore);
  for (const n of nodes) expect(Buffer.from(store.logNode(n.device, n.level, n.idx)!)).toEqual(n.hash);
  expect(store.logNode(c.devices[0].id, 0, 13)).toBeUndefined(); // not appended yet
  expect(store.logNode(c.devices[0].id, 2, 3)).toBeUndefined(); // leaf 15 would complete it
  const chain = Chain.open(store, genesis);
  for (let seq = 0; seq < 13; seq++) {
    const record = verifyReadingPresent(chain.head().header, c.devices[0].id, seq, proveReading(chain, c.devices[0].id, seq));
    expect(record?.sequence).toBe(seq);
  }
  store.close();
});

it("names a node by the leaf whose append completed it", () => {
  expect(completedBy(0, 5)).toBe(5);
  expect(completedBy(1, 0)).toBe(1);
  expect(completedBy(2, 1)).toBe(7);
  expect(completedBy(3, 0)).toBe(7);
});
