// Stored device reading logs (gateway/chain/device-log.ts), one row per append: the leaf's hash,
// then the root of each perfect subtree that leaf completed, level 1 upward (32 bytes each). Node
// (level, index) is the last leaf under it, (index + 1) * 2^level - 1, at offset 32 * level of
// that leaf's row.
//
// A row is keyed by its leaf's place in the chain (height, tx_idx, pos), the place of the reading
// appended (storage schema 6): a block's appends are adjacent, so a commit appends them at the end
// of the tree instead of dirtying a page per device (bench/HISTORY.md, bench:chain). A leaf (device, index) is
// found through the readings index, device_readings (device, log_idx) -> place (schema 7:
// readings_merged_by_log or readings_recent, reading-keys.ts); that index is written in the same
// transaction, and rebuilt before the logs when it is rebuilt (recover.ts).
//
// Why not a row per node keyed (device, level, idx), as schema version 4 had: an append wrote two
// rows on average, each level's newest nodes in a run of their own. Schema 5 keyed rows (device,
// leaf index): one page per device per block at scale.
import type Database from "better-sqlite3";
import { toHex } from "../../shared/ed25519.ts";
import { storageAssert } from "./errors.ts";

export interface StoredLogNode {
  deviceId: Uint8Array;
  level: number;
  index: number;
  hash: Uint8Array;
}

/** Where the reading a log leaf holds sits in the chain. */
export interface LeafPlace {
  deviceId: Uint8Array;
  logIndex: number;
  height: number;
  txIndex: number;
  position: number;
}

const hashBytes = 32;

const sameDevice = (a: Uint8Array, b: Uint8Array): boolean => a === b || Buffer.compare(a, b) === 0;
const leafKey = (deviceId: Uint8Array, index: number): string => `${toHex(deviceId)}/${index}`;

/** The leaf whose append completed node (level, index): the last leaf under it. */
export const completedBy = (level: number, index: number): number => (index + 1) * 2 ** level - 1;

/**
 * Rows of appends, from nodes in the order an append gives them (its leaf, then the subtrees it
 * completed, level by level), appends one after another.
 */
export function logRows(nodes: StoredLogNode[]): { deviceId: Uint8Array; index: number; hashes: Uint8Array }[] {
  const rows: { deviceId: Uint8Array; index: number; hashes: Uint8Array }[] = [];
  let i = 0;
  while (i < nodes.length) {
    const leaf = nodes[i];
    storageAssert(leaf.level === 0, `device log node at level ${leaf.level} without the leaf that completed it`);
    let j = i + 1;
    while (j < nodes.length && nodes[j].level === j - i && sameDevice(nodes[j].deviceId, leaf.deviceId) && completedBy(nodes[j].level, nodes[j].index) === leaf.index) j++;
    const hashes = new Uint8Array((j - i) * hashBytes);
    for (let k = i; k < j; k++) hashes.set(nodes[k].hash, (k - i) * hashBytes);
    rows.push({ deviceId: leaf.deviceId, index: leaf.index, hashes });
    i = j;
  }
  return rows;
}

export class DeviceLogStore {
  private readonly q;
  constructor(db: Database.Database) {
    this.q = {
      put: db.prepare("INSERT INTO device_log (height, tx_idx, pos, hashes) VALUES (?, ?, ?, ?)"),
      get: db.prepare<[Uint8Array, number], { hashes: Buffer }>(
        "SELECT d.hashes FROM device_readings r JOIN device_log d ON d.height = r.height AND d.tx_idx = r.tx_idx AND d.pos = r.pos WHERE r.device = ? AND r.log_idx = ?",
      ),
    };
  }

  /**
   * Stores appended nodes (callers run it inside the block's transaction), each append at the
   * place of its leaf's reading, which `leaves` must hold (the block's readings index rows).
   */
  write(nodes: StoredLogNode[], leaves: LeafPlace[]): void {
    const places = new Map<string, LeafPlace>();
    for (const l of leaves) places.set(leafKey(l.deviceId, l.logIndex), l);
    const rows = logRows(nodes).map((r) => {
      const place = places.get(leafKey(r.deviceId, r.index));
      storageAssert(place !== undefined, `device log leaf ${r.index} of ${leafKey(r.deviceId, r.index)} has no reading in the block's index rows`);
      return { place, hashes: r.hashes };
    });
    // In key order: the block's appends go into the tree's last pages one after another.
    rows.sort((a, b) => a.place.height - b.place.height || a.place.txIndex - b.place.txIndex || a.place.position - b.place.position);
    for (const r of rows) this.q.put.run(r.place.height, r.place.txIndex, r.place.position, r.hashes);
  }

  node(deviceId: Uint8Array, level: number, index: number): Uint8Array | undefined {
    const row = this.q.get.get(deviceId, completedBy(level, index));
    if (!row || row.hashes.length < (level + 1) * hashBytes) return undefined;
    return new Uint8Array(row.hashes.subarray(level * hashBytes, (level + 1) * hashBytes));
  }
}

const placeKeyedSql = "CREATE TABLE device_log (height INTEGER NOT NULL, tx_idx INTEGER NOT NULL, pos INTEGER NOT NULL, hashes BLOB NOT NULL, PRIMARY KEY (height, tx_idx, pos)) WITHOUT ROWID;";

/**
 * Schema version 4's device_log (a row per node) regrouped as rows per append keyed (device, leaf
 * index), schema 5's shape, in place; run inside the migration's transaction, before
 * migrateLogPlaces. Returns how many appends were written.
 */
export function migrateNodeRows(db: Database.Database): number {
  const columns = db.prepare<[], { name: string }>("PRAGMA table_info(device_log)").all().map((c) => c.name);
  if (!columns.includes("level")) return 0;
  db.exec(`ALTER TABLE device_log RENAME TO device_log_v4;
CREATE TABLE device_log (device BLOB NOT NULL, idx INTEGER NOT NULL, hashes BLOB NOT NULL, PRIMARY KEY (device, idx)) WITHOUT ROWID;`);
  const devices = db.prepare<[], { device: Buffer }>("SELECT DISTINCT device FROM device_log_v4").all();
  const nodesOf = db.prepare<[Buffer], { level: number; idx: number; hash: Buffer }>("SELECT level, idx, hash FROM device_log_v4 WHERE device = ?");
  const put = db.prepare("INSERT INTO device_log (device, idx, hashes) VALUES (?, ?, ?)");
  let appends = 0;
  for (const { device } of devices) {
    const id = new Uint8Array(device);
    const nodes = nodesOf.all(device).map((n) => ({ deviceId: id, level: n.level, index: n.idx, hash: new Uint8Array(n.hash) }));
    nodes.sort((a, b) => completedBy(a.level, a.index) - completedBy(b.level, b.index) || a.level - b.level);
    for (const r of logRows(nodes)) put.run(device, r.index, r.hashes);
    appends += nodes.filter((n) => n.level === 0).length;
  }
  db.exec("DROP TABLE device_log_v4");
  return appends;
}

/**
 * Schema 5's device_log (keyed device, leaf index) re-keyed by the leaf's place in the chain, in
 * place, through the readings index; run inside the migration's transaction. `complete` is false
 * when some append had no readings row (an index emptied for a rebuild, schema 3 and older): the
 * table is then left empty and the caller has the logs rebuilt from the readings once the index is
 * (gateway/chain/device-log-rebuild.ts).
 */
export function migrateLogPlaces(db: Database.Database): { moved: number; complete: boolean } {
  const columns = db.prepare<[], { name: string }>("PRAGMA table_info(device_log)").all().map((c) => c.name);
  if (!columns.includes("device")) return { moved: 0, complete: true };
  db.exec(`ALTER TABLE device_log RENAME TO device_log_v5; ${placeKeyedSql}`);
  const moved = db
    .prepare(
      `INSERT INTO device_log (height, tx_idx, pos, hashes)
       SELECT r.height, r.tx_idx, r.pos, d.hashes FROM device_log_v5 d JOIN readings r ON r.device = d.device AND r.log_idx = d.idx ORDER BY r.height, r.tx_idx, r.pos`,
    )
    .run().changes;
  const before = db.prepare<[], { n: number }>("SELECT count(*) AS n FROM device_log_v5").get()!.n;
  db.exec("DROP TABLE device_log_v5");
  if (moved === before) return { moved, complete: true };
  db.exec("DELETE FROM device_log");
  return { moved: 0, complete: false };
}
