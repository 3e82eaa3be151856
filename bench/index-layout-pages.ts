// npx tsx bench/index-layout-pages.ts — prototype for issue 14 item 1: pages a 4,096-reading block
// writes to the readings table and its device-keyed look-up trees, for candidate layouts, on a bare
// SQLite file with the store's pragmas (WAL, 4 KiB pages, 64 MiB cache) and bench:chain's workload
// shape (1,000 devices, 4 readings each per block, random 32-byte ids). Only these trees are built:
// the rest of a block (values, device log, state) is the same for every layout (bench:chain-pages).
//
// Layouts:
//   schema6      readings keyed by place + readings_by_seq / _by_time / _by_log (today)
//   lsmK         readings keyed by place, no indexes; a block's device-keyed entries first go to
//                recent (shard, height, tx_idx, pos) with a small recent_by_seq (device, seq) for
//                execution's point look-up; at height h shard h mod K's recent rows are merged into
//                three device-keyed tables (by_seq, by_time, by_log) and deleted from recent.
//   lsmK-num     as lsmK with a 4-byte device number in place of the 32-byte id in every device-keyed
//                entry (devices table: id -> num).
// Storage schema 7 took lsm16-num, with the three device-keyed trees as one table and two indexes
// (readings_merged, gateway/storage/schema.ts); the figures are in bench/HISTORY.md (bench:chain).
// Options (env): LAYOUTS (comma list, default all), FILL (readings stored before measuring, default
// 290816), MEASURE_BLOCKS (default 4).
import Database from "better-sqlite3";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const devicesN = 1000;
const blockReadings = 4096;
const fill = Number(process.env.FILL ?? 290_816);
const measureBlocks = Number(process.env.MEASURE_BLOCKS ?? 4);
const devices = Array.from({ length: devicesN }, () => randomBytes(32));
const gatewayId = randomBytes(32);

interface Layout {
  schema: string;
  /** Writes one block's rows (and does its merge). */
  block(db: Database.Database, height: number): void;
}

type Row = { device: number; seq: number; receivedMs: number; txIdx: number; pos: number; logIdx: number; digest: Buffer };
const nextSeq = new Array<number>(devicesN).fill(0);
let cursor = 0;
function blockRows(height: number): Row[] {
  return Array.from({ length: blockReadings }, (_, i) => {
    const d = cursor++ % devicesN;
    const seq = nextSeq[d]++;
    return { device: d, seq, receivedMs: 1_700_000_000_000 + height * 1000, txIdx: i >> 10, pos: i & 1023, logIdx: seq, digest: randomBytes(32) };
  });
}
const byDeviceSeq = (rows: Row[]): Row[] => [...rows].sort((a, b) => Buffer.compare(devices[a.device], devices[b.device]) || a.seq - b.seq);

const readingsSql = `CREATE TABLE readings (device BLOB NOT NULL, seq INTEGER NOT NULL, received_ms INTEGER NOT NULL, height INTEGER NOT NULL, tx_idx INTEGER NOT NULL, pos INTEGER NOT NULL, gateway BLOB NOT NULL, digest BLOB NOT NULL, log_idx INTEGER NOT NULL, PRIMARY KEY (height, tx_idx, pos)) WITHOUT ROWID;`;

function schema6(): Layout {
  return {
    schema: `${readingsSql}
CREATE UNIQUE INDEX readings_by_seq ON readings (device, seq);
CREATE INDEX readings_by_time ON readings (device, received_ms, seq);
CREATE INDEX readings_by_log ON readings (device, log_idx);`,
    block(db, height) {
      const put = db.prepare("INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
      for (const r of byDeviceSeq(blockRows(height))) put.run(devices[r.device], r.seq, r.receivedMs, height, r.txIdx, r.pos, gatewayId, r.digest, r.logIdx);
    },
  };
}

/** Shard of a device: its id's first byte (ids are uniform: public keys), mod K (K divides 256). */
function lsm(shards: number, deviceNums: boolean): Layout {
  const dev = deviceNums ? "INTEGER" : "BLOB";
  const key = (d: number): number | Buffer => (deviceNums ? d : devices[d]);
  const shardOf = (d: number): number => devices[d][0] % shards;
  return {
    schema: `${readingsSql}
CREATE TABLE recent (shard INTEGER NOT NULL, height INTEGER NOT NULL, tx_idx INTEGER NOT NULL, pos INTEGER NOT NULL, device ${dev} NOT NULL, seq INTEGER NOT NULL, received_ms INTEGER NOT NULL, log_idx INTEGER NOT NULL, PRIMARY KEY (shard, height, tx_idx, pos)) WITHOUT ROWID;
CREATE UNIQUE INDEX recent_by_seq ON recent (device, seq);
CREATE TABLE by_seq (device ${dev} NOT NULL, seq INTEGER NOT NULL, height INTEGER NOT NULL, tx_idx INTEGER NOT NULL, pos INTEGER NOT NULL, PRIMARY KEY (device, seq)) WITHOUT ROWID;
CREATE TABLE by_time (device ${dev} NOT NULL, received_ms INTEGER NOT NULL, seq INTEGER NOT NULL, height INTEGER NOT NULL, tx_idx INTEGER NOT NULL, pos INTEGER NOT NULL, PRIMARY KEY (device, received_ms, seq)) WITHOUT ROWID;
CREATE TABLE by_log (device ${dev} NOT NULL, log_idx INTEGER NOT NULL, height INTEGER NOT NULL, tx_idx INTEGER NOT NULL, pos INTEGER NOT NULL, PRIMARY KEY (device, log_idx)) WITHOUT ROWID;`,
    block(db, height) {
      const put = db.prepare("INSERT INTO readings VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
      const putRecent = db.prepare("INSERT INTO recent VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
      const rows = blockRows(height);
      for (const r of rows) put.run(devices[r.device], r.seq, r.receivedMs, height, r.txIdx, r.pos, gatewayId, r.digest, r.logIdx);
      for (const r of [...rows].sort((a, b) => shardOf(a.device) - shardOf(b.device) || a.txIdx - b.txIdx || a.pos - b.pos)) putRecent.run(shardOf(r.device), height, r.txIdx, r.pos, key(r.device), r.seq, r.receivedMs, r.logIdx);
      const s = height % shards;
      db.prepare("INSERT INTO by_seq SELECT device, seq, height, tx_idx, pos FROM recent WHERE shard = ? ORDER BY device, seq").run(s);
      db.prepare("INSERT INTO by_time SELECT device, received_ms, seq, height, tx_idx, pos FROM recent WHERE shard = ? ORDER BY device, received_ms, seq").run(s);
      db.prepare("INSERT INTO by_log SELECT device, log_idx, height, tx_idx, pos FROM recent WHERE shard = ? ORDER BY device, log_idx").run(s);
      db.prepare("DELETE FROM recent WHERE shard = ?").run(s);
    },
  };
}

const layouts: Record<string, () => Layout> = {
  schema6,
  lsm4: () => lsm(4, false),
  lsm8: () => lsm(8, false),
  lsm16: () => lsm(16, false),
  "lsm8-num": () => lsm(8, true),
  "lsm16-num": () => lsm(16, true),
  "lsm32-num": () => lsm(32, true),
};

function measure(name: string): void {
  const dir = mkdtempSync(join(tmpdir(), "mote-layout-"));
  const db = new Database(join(dir, "x.sqlite"));
  db.pragma("auto_vacuum = INCREMENTAL");
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.pragma("wal_autocheckpoint = 0");
  db.pragma("cache_size = -65536");
  const layout = layouts[name]();
  db.exec(layout.schema);
  nextSeq.fill(0);
  cursor = 0;
  let height = 1;
  for (; (height - 1) * blockReadings < fill; height++) {
    db.transaction(() => layout.block(db, height))();
    if (height % 8 === 0) db.pragma("wal_checkpoint(TRUNCATE)");
  }
  db.pragma("wal_checkpoint(TRUNCATE)");
  const pageSize = db.pragma("page_size", { simple: true }) as number;
  const totals = new Map<string, number>();
  let framesSum = 0;
  let cpuUs = 0;
  for (let b = 0; b < measureBlocks; b++, height++) {
    const c0 = process.cpuUsage();
    db.transaction(() => layout.block(db, height))();
    const c = process.cpuUsage(c0);
    cpuUs += c.user + c.system;
    const wal = readFileSync(join(dir, "x.sqlite-wal"));
    const pages: number[] = [];
    for (let off = 32; off + 24 + pageSize <= wal.length; off += 24 + pageSize) pages.push(wal.readUInt32BE(off));
    const owners = new Map<number, string>();
    for (const r of db.prepare<[], { name: string; pageno: number }>("SELECT name, pageno FROM dbstat").iterate()) owners.set(r.pageno, r.name);
    const distinct = new Set(pages);
    framesSum += distinct.size;
    for (const p of distinct) totals.set(owners.get(p) ?? "(free/new)", (totals.get(owners.get(p) ?? "(free/new)") ?? 0) + 1);
    db.pragma("wal_checkpoint(TRUNCATE)");
  }
  const detail = [...totals].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${(v / measureBlocks).toFixed(0)}`).join(", ");
  process.stdout.write(`| ${name} | ${((height - 1) * blockReadings).toLocaleString("en-US")} | ${(framesSum / measureBlocks).toFixed(0)} | ${(cpuUs / measureBlocks / blockReadings).toFixed(1)} | ${detail} |\n`);
  db.close();
  rmSync(dir, { recursive: true, force: true });
}

process.stdout.write(`| layout | stored after | pages per block | CPU us/reading (insert+merge, no fsync) | pages by tree |\n|---|---|---|---|---|\n`);
for (const name of (process.env.LAYOUTS ?? Object.keys(layouts).join(",")).split(",")) measure(name);
