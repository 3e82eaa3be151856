// The gateway's pending store, `<dataDir>/ingest.sqlite`: every reading the gateway acknowledged,
// with the batch attestation that co-signs it, until the chain has included it in a block.
//
// Invariant (owned here): an acknowledged reading leaves the pending set only when a finalized
// block holds its digest (markIncluded), or for a reason intrinsic to the reading (markRejected
// refuses any other code: intrinsicRejections). The chain side keeps it through
// gateway/chain/reading-feed.ts; a reading the chain can no longer take through no fault of its
// own is recorded as lost (markLost), counted and logged as an error, never silently.
//
// Durability: WAL with synchronous=FULL, so a commit has reached the disk when `commitBatch`
// returns; the ingest pipeline acknowledges a reading (2.01) only after that. One transaction
// holds a whole group commit (many readings, one attestation), which is what makes it fast.
//
// For the chain core (the drain side):
//
//   const store = PendingStore.open(dataDir);
//   const readings = store.takeBatch(500);          // oldest not-yet-included readings, in order;
//                                                   // a read: nothing changes until markIncluded
//   … put them in a block, finalize it at `height` …
//   store.markIncluded(readings.map((r) => r.id), height);
//   store.markRejected(ids, code, message);          // the chain will never take these
//
//   The drain may run on any connection (this class, opened again on the same dataDir); WAL lets it
//   read while ingest writes, and busy_timeout makes its markIncluded wait for an ingest commit.
//
//   Proof of co-signature for one reading: store.attestation(r.batchId) and
//   store.batchReadings(r.batchId) give the signed root and all leaves (readingProof in
//   shared/attestation.ts with index r.leafIndex).
//
// markIncluded and markRejected are idempotent; takeBatch after a crash returns the same readings
// again (the chain dedupes by digest or by (deviceId, sequence), which is unique here).
import Database from "better-sqlite3";
import { join } from "node:path";
import { mkdirSync } from "node:fs";
import { decodeAttestation, encodeAttestation, type AttestedReading, type BatchAttestation } from "../../shared/attestation.ts";

export const pendingStoreFile = "ingest.sqlite";

/** Why a reading may be refused for ever: all intrinsic to it (gateway/chain/reading-outcome.ts names). */
export const intrinsicRejections: ReadonlySet<string> = new Set([
  "READING_MALFORMED", // it does not decode
  "READING_BAD_SIGNATURE", // its device's signature fails
  "DEVICE_UNKNOWN", // its device was not enrolled on chain
  "DEVICE_NOT_ACTIVE", // its device was revoked or quarantined before the gateway received it
  "READING_EQUIVOCATION", // its device signed another reading under its sequence: evidence on chain
]);

/** Prefix of the `rejected` column for readings lost through no fault of their own. */
export const lostMarker = "LOST ";

export class PendingStoreInvariantError extends Error {
  readonly code = "PENDING_INVARIANT";
}
const schemaVersion = 1;

/** A reading accepted by the pipeline, ready to be committed. */
export interface AcceptedReading {
  deviceId: Uint8Array;
  sequence: number;
  digest: Uint8Array; // SHA-256 of `cose`
  cose: Uint8Array; // the exact COSE_Sign1 bytes received
  receivedAtMs: number; // gateway wall clock, Unix ms
}

export interface PendingReading extends AcceptedReading {
  id: number;
  batchId: number;
  leafIndex: number;
  includedHeight: number | null;
  rejected: string | null;
}

export interface MisbehaviourDelta {
  deviceId: Uint8Array;
  code: string;
  count: number;
  lastAtMs: number;
}

interface ReadingRow {
  id: number;
  device_id: Buffer;
  seq: number;
  digest: Buffer;
  cose: Buffer;
  received_at_ms: number;
  batch_id: number;
  leaf_index: number;
  included_height: number | null;
  rejected: string | null;
}

const schema = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value ANY) STRICT;
  CREATE TABLE IF NOT EXISTS batches (
    id INTEGER PRIMARY KEY,
    count INTEGER NOT NULL,
    root BLOB NOT NULL,
    attestation BLOB NOT NULL,          -- shared/attestation.ts encodeAttestation
    created_at_ms INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE IF NOT EXISTS readings (
    id INTEGER PRIMARY KEY,
    device_id BLOB NOT NULL,
    seq INTEGER NOT NULL,
    digest BLOB NOT NULL,
    cose BLOB NOT NULL,
    received_at_ms INTEGER NOT NULL,
    batch_id INTEGER NOT NULL REFERENCES batches(id),
    leaf_index INTEGER NOT NULL,
    included_height INTEGER,            -- set by the chain when a finalized block holds it
    rejected TEXT,                      -- set when the chain will never take it: "CODE: message"
    UNIQUE (device_id, seq)             -- one record per (device, sequence), whatever the retries
  ) STRICT;
  CREATE INDEX IF NOT EXISTS readings_pending ON readings (id) WHERE included_height IS NULL AND rejected IS NULL;
  CREATE INDEX IF NOT EXISTS readings_lost ON readings (id) WHERE rejected LIKE 'LOST %';
  CREATE TABLE IF NOT EXISTS misbehaviour (
    device_id BLOB NOT NULL,
    code TEXT NOT NULL,
    count INTEGER NOT NULL,
    last_at_ms INTEGER NOT NULL,
    PRIMARY KEY (device_id, code)
  ) STRICT, WITHOUT ROWID;
`;

export class PendingStore {
  private readonly db: Database.Database;
  private readonly insertBatch: Database.Statement;
  private readonly insertReading: Database.Statement;
  private readonly upsertMisbehaviour: Database.Statement;
  private readonly selectBySeq: Database.Statement;
  private readonly selectRecentSeqs: Database.Statement;
  private readonly selectPending: Database.Statement;
  private readonly selectPendingIds: Database.Statement;
  private readonly selectPendingRange: Database.Statement;
  private readonly countPending: Database.Statement;
  private readonly updateIncluded: Database.Statement;
  private readonly updateRejected: Database.Statement;
  readonly commitBatch: (readings: AcceptedReading[], attestation: BatchAttestation | undefined, counters: MisbehaviourDelta[]) => number | undefined;

  private constructor(readonly path: string) {
    this.db = new Database(path);
    // WAL + FULL: a commit is on disk when it returns, and readers (the chain) never block writers.
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    // The ingest writer (a worker) and the chain's drain share the file: wait out each other's commits.
    this.db.pragma("busy_timeout = 5000");
    this.db.exec(schema);
    const version = this.db.prepare("SELECT value FROM meta WHERE key = 'schema'").pluck().get();
    if (version === undefined) this.db.prepare("INSERT OR IGNORE INTO meta (key, value) VALUES ('schema', ?)").run(schemaVersion);
    else if (version !== schemaVersion) throw new Error(`${path}: schema version ${String(version)}, this gateway reads ${schemaVersion}; upgrade the gateway`);
    this.insertBatch = this.db.prepare("INSERT INTO batches (count, root, attestation, created_at_ms) VALUES (?, ?, ?, ?)");
    this.insertReading = this.db.prepare("INSERT INTO readings (device_id, seq, digest, cose, received_at_ms, batch_id, leaf_index) VALUES (?, ?, ?, ?, ?, ?, ?)");
    this.upsertMisbehaviour = this.db.prepare(
      "INSERT INTO misbehaviour (device_id, code, count, last_at_ms) VALUES (?, ?, ?, ?) ON CONFLICT (device_id, code) DO UPDATE SET count = count + excluded.count, last_at_ms = max(last_at_ms, excluded.last_at_ms)",
    );
    this.selectBySeq = this.db.prepare("SELECT digest FROM readings WHERE device_id = ? AND seq = ?").pluck();
    this.selectRecentSeqs = this.db.prepare("SELECT seq FROM readings WHERE device_id = ? ORDER BY seq DESC LIMIT ?").pluck();
    this.selectPending = this.db.prepare("SELECT * FROM readings WHERE included_height IS NULL AND rejected IS NULL ORDER BY id LIMIT ?");
    this.selectPendingIds = this.db.prepare("SELECT id FROM readings WHERE included_height IS NULL AND rejected IS NULL ORDER BY id").pluck();
    this.selectPendingRange = this.db.prepare("SELECT * FROM readings WHERE included_height IS NULL AND rejected IS NULL AND id BETWEEN ? AND ? ORDER BY id");
    // Asked on every reading-feed tick (16 per block interval): preparing it each time showed in bench:net's profiles.
    this.countPending = this.db.prepare("SELECT count(*) FROM readings WHERE included_height IS NULL AND rejected IS NULL").pluck();
    this.updateIncluded = this.db.prepare("UPDATE readings SET included_height = ? WHERE id = ? AND included_height IS NULL");
    this.updateRejected = this.db.prepare("UPDATE readings SET rejected = ? WHERE id = ? AND included_height IS NULL AND rejected IS NULL");
    this.commitBatch = this.db.transaction((readings: AcceptedReading[], attestation: BatchAttestation | undefined, counters: MisbehaviourDelta[]) => {
      for (const c of counters) this.upsertMisbehaviour.run(c.deviceId, c.code, c.count, c.lastAtMs);
      if (readings.length === 0) return undefined;
      if (!attestation || attestation.count !== readings.length) throw new Error("commitBatch: attestation does not cover the readings");
      const batchId = Number(this.insertBatch.run(attestation.count, attestation.root, encodeAttestation(attestation), Date.now()).lastInsertRowid);
      readings.forEach((r, i) => this.insertReading.run(r.deviceId, r.sequence, r.digest, r.cose, r.receivedAtMs, batchId, i));
      return batchId;
    });
  }

  static open(dataDir: string): PendingStore {
    mkdirSync(dataDir, { recursive: true });
    return new PendingStore(join(dataDir, pendingStoreFile));
  }

  /** Digest of the stored reading (deviceId, seq), if any: tells a duplicate from a replay. */
  digestOf(deviceId: Uint8Array, seq: number): Uint8Array | undefined {
    const d = this.selectBySeq.get(deviceId, seq) as Buffer | undefined;
    return d && new Uint8Array(d);
  }

  /** The device's highest stored sequence numbers, newest first (to rebuild its replay window). */
  recentSequences(deviceId: Uint8Array, limit: number): number[] {
    return this.selectRecentSeqs.all(deviceId, limit) as number[];
  }

  /**
   * The oldest `max` readings not yet included in a block, in acceptance order, leaving out those
   * in `skip`. With a skip set the ids are walked on the partial index alone (no rows, no blobs)
   * and only the chosen range's rows are read.
   */
  takeBatch(max: number, skip?: ReadonlySet<number>): PendingReading[] {
    if (!skip || skip.size === 0) return (this.selectPending.all(max) as ReadingRow[]).map(toPending);
    const chosen = new Set<number>();
    for (const id of this.selectPendingIds.iterate() as IterableIterator<number>) {
      if (chosen.size >= max) break;
      if (!skip.has(id)) chosen.add(id);
    }
    if (chosen.size === 0) return [];
    const ids = [...chosen];
    const rows = this.selectPendingRange.all(ids[0], ids[ids.length - 1]) as ReadingRow[];
    return rows.filter((r) => chosen.has(r.id)).map(toPending);
  }

  /**
   * Marks readings as included in the finalized block at `height`. Idempotent. Written without
   * waiting for the disk (synchronous=NORMAL for this transaction: it survives a killed process,
   * not a power cut): a mark lost to a power cut leaves the readings pending, the feed batches
   * them again, the chain answers "duplicate" and the feed marks them at the height the chain
   * recorded (reading-feed.ts settleKnown), so the invariant holds either way. The fsync it saves
   * was on the consensus thread after every block (bench:net profile: 4.5% of a gateway's time).
   */
  markIncluded(ids: number[], height: number): void {
    if (!Number.isSafeInteger(height) || height < 0) throw new RangeError(`bad block height ${height}`);
    this.db.pragma("synchronous = NORMAL");
    try {
      this.db.transaction(() => {
        for (const id of ids) this.updateIncluded.run(height, id);
      })();
    } finally {
      this.db.pragma("synchronous = FULL");
    }
  }

  /**
   * The chain will never take these readings (e.g. the device is not enrolled on chain): they
   * leave the pending set but stay stored, with the reason, as evidence. Idempotent.
   */
  markRejected(ids: number[], code: string, message: string): void {
    if (!intrinsicRejections.has(code)) {
      throw new PendingStoreInvariantError(`refusing to drop ${ids.length} acknowledged readings for ${code}: not a reason intrinsic to a reading; keep them pending (or markLost)`);
    }
    this.setRejected(ids, `${code}: ${message}`);
  }

  /**
   * The chain can no longer take these readings through no fault of theirs (e.g. held back until
   * below their device's sequence window): they leave the pending set marked lost, so that they
   * are counted (lostCount) instead of retried for ever.
   */
  markLost(ids: number[], code: string, message: string): void {
    this.setRejected(ids, `${lostMarker}${code}: ${message}`);
  }

  /** Readings recorded as lost (markLost). */
  lostCount(): number {
    return this.db.prepare("SELECT count(*) FROM readings WHERE rejected LIKE 'LOST %'").pluck().get() as number;
  }

  private setRejected(ids: number[], text: string): void {
    const reason = text.slice(0, 500);
    this.db.transaction(() => {
      for (const id of ids) this.updateRejected.run(reason, id);
    })();
  }

  attestation(batchId: number): BatchAttestation | undefined {
    const bytes = this.db.prepare("SELECT attestation FROM batches WHERE id = ?").pluck().get(batchId) as Buffer | undefined;
    return bytes && decodeAttestation(new Uint8Array(bytes));
  }

  /** A batch's leaves in leaf order: what readingProof/verifyBatch need. */
  batchReadings(batchId: number): AttestedReading[] {
    const rows = this.db.prepare("SELECT digest, received_at_ms FROM readings WHERE batch_id = ? ORDER BY leaf_index").all(batchId) as { digest: Buffer; received_at_ms: number }[];
    return rows.map((r) => ({ digest: new Uint8Array(r.digest), receivedAtMs: r.received_at_ms }));
  }

  /** Every stored reading, in acceptance order (tests, tools). */
  allReadings(): PendingReading[] {
    return (this.db.prepare("SELECT * FROM readings ORDER BY id").all() as ReadingRow[]).map(toPending);
  }

  /** Readings waiting for the chain (uses the partial index, not a table scan). */
  pendingCount(): number {
    return this.countPending.get() as number;
  }

  /**
   * When the oldest reading still waiting for the chain was received (gateway clock, Unix ms), or
   * undefined when none waits. Readings get their ids in acceptance order, so the first row of the
   * partial index is the oldest: one index step, not a scan.
   */
  oldestPendingReceivedAtMs(): number | undefined {
    return this.db.prepare("SELECT received_at_ms FROM readings WHERE included_height IS NULL AND rejected IS NULL ORDER BY id LIMIT 1").pluck().get() as number | undefined;
  }

  counts(): { readings: number; pending: number; batches: number } {
    const readings = this.db.prepare("SELECT count(*) FROM readings").pluck().get() as number;
    const pending = this.pendingCount();
    const batches = this.db.prepare("SELECT count(*) FROM batches").pluck().get() as number;
    return { readings, pending, batches };
  }

  /** Misbehaviour counters changed after `ms` (gateway/chain/misbehaviour-reporter.ts). */
  misbehaviourSince(ms: number): { deviceId: Uint8Array; code: string; count: number; lastAtMs: number }[] {
    const rows = this.db.prepare("SELECT device_id, code, count, last_at_ms FROM misbehaviour WHERE last_at_ms > ?").all(ms) as { device_id: Uint8Array; code: string; count: number; last_at_ms: number }[];
    return rows.map((r) => ({ deviceId: new Uint8Array(r.device_id), code: r.code, count: r.count, lastAtMs: r.last_at_ms }));
  }

  /** Misbehaviour counters of one device, by code. */
  misbehaviour(deviceId: Uint8Array): Record<string, number> {
    const rows = this.db.prepare("SELECT code, count FROM misbehaviour WHERE device_id = ?").all(deviceId) as { code: string; count: number }[];
    return Object.fromEntries(rows.map((r) => [r.code, r.count]));
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function toPending(r: ReadingRow): PendingReading {
  return {
    id: r.id,
    deviceId: new Uint8Array(r.device_id),
    sequence: r.seq,
    digest: new Uint8Array(r.digest),
    cose: new Uint8Array(r.cose),
    receivedAtMs: r.received_at_ms,
    batchId: r.batch_id,
    leafIndex: r.leaf_index,
    includedHeight: r.included_height,
    rejected: r.rejected,
  };
}
