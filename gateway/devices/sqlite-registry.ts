// The device registry of a stand-alone gateway: `<dataDir>/devices.sqlite` (WAL, synchronous=FULL,
// so an enrollment acknowledged with 2.01 survives a crash).
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { LruMap } from "../ingest/lru.ts";
import type { DeviceRecord, DeviceRegistry, DeviceStatus, EnrollOutcome } from "./registry.ts";

export const registryFile = "devices.sqlite";

interface Row {
  device_id: Buffer;
  public_key: Buffer;
  owner_public_key: Buffer;
  status: DeviceStatus;
  metadata: string;
  enrolled_at_ms: number;
  enrollment: Buffer;
}

const schema = `
  CREATE TABLE IF NOT EXISTS devices (
    device_id BLOB PRIMARY KEY,
    public_key BLOB NOT NULL,
    owner_public_key BLOB NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'pending', 'revoked', 'quarantined')),
    metadata TEXT NOT NULL,             -- JSON object
    enrolled_at_ms INTEGER NOT NULL,
    enrollment BLOB NOT NULL
  ) STRICT, WITHOUT ROWID;
`;

export class SqliteDeviceRegistry implements DeviceRegistry {
  private readonly db: Database.Database;
  private readonly selectOne: Database.Statement;
  /** Enrolled devices by hex id: every reading looks its device up. */
  private readonly cache = new LruMap<string, DeviceRecord>(100_000);
  /** SQLite's data_version changes when another connection (`mote gateway devices approve`) commits. */
  private readonly dataVersion: Database.Statement;
  private seenVersion = -1;

  private constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.exec(schema);
    this.db.pragma("busy_timeout = 5000");
    this.selectOne = this.db.prepare("SELECT * FROM devices WHERE device_id = ?");
    this.dataVersion = this.db.prepare("PRAGMA data_version").pluck();
  }

  static open(dataDir: string): SqliteDeviceRegistry {
    mkdirSync(dataDir, { recursive: true });
    return new SqliteDeviceRegistry(join(dataDir, registryFile));
  }

  lookup(deviceId: Uint8Array): DeviceRecord | undefined {
    const version = this.dataVersion.get() as number;
    if (version !== this.seenVersion) {
      this.cache.clear();
      this.seenVersion = version;
    }
    const key = Buffer.from(deviceId).toString("hex");
    const hit = this.cache.get(key);
    if (hit) return hit;
    const row = this.selectOne.get(deviceId) as Row | undefined;
    if (!row) return undefined; // unknown ids are not cached: a flood of them must not evict real devices
    const record = toRecord(row);
    this.cache.set(key, record);
    return record;
  }

  /** Short kids come from the chain's enrollments: a stand-alone gateway has none, compact readings name the device by id. */
  deviceIdOfKid(): Uint8Array | undefined {
    return undefined;
  }

  enroll(record: DeviceRecord): EnrollOutcome {
    const current = this.lookup(record.deviceId);
    if (current && Buffer.compare(current.enrollment, record.enrollment) === 0 && current.status === record.status) return "unchanged";
    this.db
      .prepare(
        `INSERT INTO devices (device_id, public_key, owner_public_key, status, metadata, enrolled_at_ms, enrollment) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (device_id) DO UPDATE SET status = excluded.status, metadata = excluded.metadata, enrollment = excluded.enrollment`,
      )
      .run(record.deviceId, record.publicKey, record.ownerPublicKey, record.status, JSON.stringify(record.metadata), record.enrolledAtMs, record.enrollment);
    this.cache.delete(Buffer.from(record.deviceId).toString("hex"));
    return current ? "updated" : "created";
  }

  setStatus(deviceId: Uint8Array, status: DeviceStatus): boolean {
    this.cache.delete(Buffer.from(deviceId).toString("hex"));
    return this.db.prepare("UPDATE devices SET status = ? WHERE device_id = ?").run(status, deviceId).changes === 1;
  }

  list(status?: DeviceStatus): DeviceRecord[] {
    const rows = (status ? this.db.prepare("SELECT * FROM devices WHERE status = ? ORDER BY enrolled_at_ms").all(status) : this.db.prepare("SELECT * FROM devices ORDER BY enrolled_at_ms").all()) as Row[];
    return rows.map(toRecord);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toRecord(r: Row): DeviceRecord {
  return {
    deviceId: new Uint8Array(r.device_id),
    publicKey: new Uint8Array(r.public_key),
    ownerPublicKey: new Uint8Array(r.owner_public_key),
    status: r.status,
    metadata: JSON.parse(r.metadata) as Record<string, string | number>,
    enrolledAtMs: r.enrolled_at_ms,
    enrollment: new Uint8Array(r.enrollment),
  };
}
