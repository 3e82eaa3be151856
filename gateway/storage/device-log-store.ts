// Stored device reading logs (gateway/chain/device-log.ts), one row per append: the leaf's hash,
// then the root of each perfect subtree that leaf completed, level 1 upward (32 bytes each), keyed
// by (device, leaf index). Node (level, index) is the last leaf under it,
// (index + 1) * 2^level - 1, at offset 32 * level of that row.
//
// Why not a row per node keyed (device, level, idx), as schema version 4 had: an append wrote two
// rows on average, each level's newest nodes in a run of their own, so every block dirtied several
// pages per device in this tree (README bench:chain). Here an append is one row, and a device's
// appends of one block are adjacent.
import type Database from "better-sqlite3";
import { storageAssert } from "./errors.ts";

export interface StoredLogNode {
  deviceId: Uint8Array;
  level: number;
  index: number;
  hash: Uint8Array;
}

const hashBytes = 32;

const sameDevice = (a: Uint8Array, b: Uint8Array): boolean => a === b || Buffer.compare(a, b) === 0;

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
      put: db.prepare("INSERT INTO device_log (device, idx, hashes) VALUES (?, ?, ?)"),
      get: db.prepare<[Uint8Array, number], { hashes: Buffer }>("SELECT hashes FROM device_log WHERE device = ? AND idx = ?"),
    };
  }

  /** Stores appended nodes (callers run it inside the block's transaction). */
  write(nodes: StoredLogNode[]): void {
    // In key order: a device's appends of the block then go into its pages one after another.
    const rows = logRows(nodes).sort((a, b) => Buffer.compare(a.deviceId, b.deviceId) || a.index - b.index);
    for (const r of rows) this.q.put.run(r.deviceId, r.index, r.hashes);
  }

  node(deviceId: Uint8Array, level: number, index: number): Uint8Array | undefined {
    const row = this.q.get.get(deviceId, completedBy(level, index));
    if (!row || row.hashes.length < (level + 1) * hashBytes) return undefined;
    return new Uint8Array(row.hashes.subarray(level * hashBytes, (level + 1) * hashBytes));
  }
}

/**
 * Schema version 4's device_log (a row per node) rewritten as rows per append, in place; run
 * inside the migration's transaction. Returns how many appends were written.
 */
export function migrateNodeRows(db: Database.Database): number {
  const columns = db.prepare<[], { name: string }>("PRAGMA table_info(device_log)").all().map((c) => c.name);
  if (!columns.includes("level")) return 0;
  db.exec(`ALTER TABLE device_log RENAME TO device_log_v4;
CREATE TABLE device_log (device BLOB NOT NULL, idx INTEGER NOT NULL, hashes BLOB NOT NULL, PRIMARY KEY (device, idx)) WITHOUT ROWID;`);
  const devices = db.prepare<[], { device: Buffer }>("SELECT DISTINCT device FROM device_log_v4").all();
  const nodesOf = db.prepare<[Buffer], { level: number; idx: number; hash: Buffer }>("SELECT level, idx, hash FROM device_log_v4 WHERE device = ?");
  const store = new DeviceLogStore(db);
  let appends = 0;
  for (const { device } of devices) {
    const id = new Uint8Array(device);
    const nodes = nodesOf.all(device).map((n) => ({ deviceId: id, level: n.level, index: n.idx, hash: new Uint8Array(n.hash) }));
    nodes.sort((a, b) => completedBy(a.level, a.index) - completedBy(b.level, b.index) || a.level - b.level);
    store.write(nodes);
    appends += nodes.filter((n) => n.level === 0).length;
  }
  db.exec("DROP TABLE device_log_v4");
  return appends;
}
