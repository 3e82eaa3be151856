// Storage schema 7 (gateway/storage/reading-keys.ts): a block's device-keyed reading entries go to
// readings_recent and are merged into readings_merged one device shard per height. Checked after
// every block, across a restart and across a rebuild of the index from the block bodies: every
// reading is in exactly one of the two, a recent row is one whose shard was not merged since its
// block, and the device queries answer what the place-keyed readings table holds.
import { rmSync } from "node:fs";
import { afterAll, expect, it } from "vitest";
import { Chain } from "../../gateway/chain/chain.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { readingShards } from "../../gateway/storage/schema.ts";
import { sqlChain, type SqlChain } from "../sql/fixture.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

type Row = { device: Buffer; seq: number; received_ms: number; height: number; tx_idx: number; pos: number; log_idx: number; digest: Buffer };

function checkKeys(store: ChainStore, c: SqlChain): void {
  const db = store.db;
  const tip = store.tip()!.height;
  const n = (sql: string) => (db.prepare(sql).get() as { n: number }).n;
  const stored = n("SELECT count(*) AS n FROM readings");
  expect(n("SELECT count(*) AS n FROM readings_recent") + n("SELECT count(*) AS n FROM readings_merged")).toBe(stored);
  expect(n("SELECT count(*) AS n FROM device_readings")).toBe(stored);
  // A recent row's shard has not been merged at its height or since.
  for (const r of db.prepare("SELECT shard, height, num FROM readings_recent").all() as { shard: number; height: number; num: number }[]) {
    expect(r.shard).toBe(r.num % readingShards);
    for (let h = r.height; h <= tip; h++) expect(h % readingShards).not.toBe(r.shard);
  }
  const all = db.prepare("SELECT device, seq, received_ms, height, tx_idx, pos, log_idx, digest FROM readings").all() as Row[];
  for (const d of c.devices) {
    const mine = all.filter((r) => Buffer.compare(r.device, Buffer.from(d.id)) === 0);
    const byTime = [...mine].sort((a, b) => a.received_ms - b.received_ms || a.seq - b.seq);
    expect(store.indexes.readingsByDevice(d.id).map((r) => [r.sequence, r.height, r.txIndex, r.position, r.logIndex])).toEqual(byTime.map((r) => [r.seq, r.height, r.tx_idx, r.pos, r.log_idx]));
    expect(store.indexes.deviceReadingCount(d.id)).toBe(mine.length);
    for (const r of mine) expect(Buffer.from(store.recordedReading(d.id, r.seq)!)).toEqual(r.digest);
    expect(store.recordedReading(d.id, 1_000_000)).toBeUndefined();
    const byLog = db.prepare("SELECT seq FROM device_readings WHERE device = ? AND log_idx >= 0 ORDER BY log_idx LIMIT 5").all(Buffer.from(d.id)) as { seq: number }[];
    expect(byLog.map((r) => r.seq)).toEqual([...mine].sort((a, b) => a.log_idx - b.log_idx).slice(0, 5).map((r) => r.seq));
  }
}

it("every reading is in exactly one of readings_recent and readings_merged, block after block, across a restart and a rebuild", () => {
  const devicesN = 20;
  let c = sqlChain({ devices: devicesN });
  dirs.push(c.dir);
  const seq = new Array<number>(devicesN).fill(0);
  /** Two readings of each of some devices, the later sequence first (log order is not sequence order). */
  const addBlock = (b: number) => {
    const list = [];
    for (let i = 0; i < devicesN; i++) if ((i + b) % 3 !== 0) list.push({ device: i, seq: seq[i] + 1 }, { device: i, seq: seq[i] });
    for (let i = 0; i < devicesN; i++) if ((i + b) % 3 !== 0) seq[i] += 2;
    c.block(list);
  };
  for (let b = 0; b < readingShards + 5; b++) {
    addBlock(b);
    checkKeys(c.chain.store, c);
  }
  // Restart: the merge depends on the height alone and carries on.
  c.chain.store.close();
  c = sqlChain({ devices: devicesN, dir: c.dir });
  for (let b = readingShards + 5; b < 2 * readingShards + 3; b++) {
    addBlock(b);
    checkKeys(c.chain.store, c);
  }
  const tip = c.chain.head().height;
  const answers = c.devices.map((d) => c.chain.store.indexes.readingsByDevice(d.id));
  // A rebuild of the last 7 blocks from their bodies (recover.ts): each block's keys are cleared, then written again.
  const genesis = c.genesis;
  c.chain.store.close();
  const store = ChainStore.open(c.dir);
  // What a store whose index lags the tip holds (a crash between a block and its index, or a release
  // that changed the index): nothing above index_height. Clearing by height finds each block's keys,
  // merged or recent, without its readings rows.
  store.db.transaction(() => {
    for (let h = tip - 6; h <= tip; h++) store.indexes.clear(h);
    store.setMeta("index_height", Buffer.from(String(tip - 7)));
  })();
  checkKeys(store, c);
  Chain.open(store, genesis);
  expect(store.indexHeight()).toBe(tip);
  checkKeys(store, c);
  expect(c.devices.map((d) => store.indexes.readingsByDevice(d.id))).toEqual(answers);
  store.close();
});
