// Which finalized readings anchor which payloads (shared/payload-anchor.ts), derived from the chain and
// kept in <dataDir>/payloads/anchors.sqlite with the height scanned so far: rebuilt by scanning blocks
// from that height on, so deleting the file only costs a rescan. Nothing here is trusted by a client:
// the proof route serves each anchoring reading's provenance.
import Database from "better-sqlite3";
import { join } from "node:path";
import type { PayloadAnchor } from "../../shared/payload-anchor.ts";

export interface AnchorRow {
  digestHex: string;
  deviceId: Uint8Array;
  sequence: number;
  height: number;
  /** The gateway that relayed the reading (its batch's author): asked first for a missing payload. */
  gatewayId: Uint8Array;
  name: string;
  bytes: number;
  contentFormat: number;
}

type Raw = { digest: Buffer; device: Buffer; seq: number; height: number; gateway: Buffer; name: string; bytes: number; ct: number };

const u8 = (b: Buffer) => new Uint8Array(b.buffer, b.byteOffset, b.length);
const toRow = (r: Raw): AnchorRow => ({ digestHex: r.digest.toString("hex"), deviceId: u8(r.device), sequence: r.seq, height: r.height, gatewayId: u8(r.gateway), name: r.name, bytes: r.bytes, contentFormat: r.ct });

export class AnchorIndex {
  private readonly db: Database.Database;
  private readonly q;

  constructor(payloadsDir: string) {
    this.db = new Database(join(payloadsDir, "anchors.sqlite"));
    this.db.pragma("journal_mode = WAL");
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS anchors (digest BLOB NOT NULL, device BLOB NOT NULL, seq INTEGER NOT NULL, height INTEGER NOT NULL,
        gateway BLOB NOT NULL, name TEXT NOT NULL, bytes INTEGER NOT NULL, ct INTEGER NOT NULL, PRIMARY KEY (digest, device, seq, name)) WITHOUT ROWID;
      CREATE TABLE IF NOT EXISTS scanned (id INTEGER PRIMARY KEY CHECK (id = 0), height INTEGER NOT NULL);
      INSERT OR IGNORE INTO scanned (id, height) VALUES (0, 0);`);
    this.q = {
      put: this.db.prepare("INSERT OR IGNORE INTO anchors (digest, device, seq, height, gateway, name, bytes, ct) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
      byDigest: this.db.prepare<[Buffer, number], Raw>("SELECT * FROM anchors WHERE digest = ? ORDER BY height, device, seq LIMIT ?"),
      digests: this.db.prepare<[], { digest: Buffer }>("SELECT DISTINCT digest FROM anchors"),
      after: this.db.prepare<[Buffer, Buffer, number, string, number], Raw>("SELECT * FROM anchors WHERE (digest, device, seq, name) > (?, ?, ?, ?) ORDER BY digest, device, seq, name LIMIT ?"),
      remove: this.db.prepare("DELETE FROM anchors WHERE digest = ? AND device = ? AND seq = ?"),
      count: this.db.prepare<[Buffer], { n: number }>("SELECT count(*) AS n FROM anchors WHERE digest = ?"),
      scanned: this.db.prepare<[], { height: number }>("SELECT height FROM scanned WHERE id = 0"),
      setScanned: this.db.prepare("UPDATE scanned SET height = ? WHERE id = 0"),
    };
  }

  scannedHeight(): number {
    return this.q.scanned.get()!.height;
  }

  /** Records the anchors of blocks up to `height` and moves the scanned height there, in one transaction. */
  record(height: number, anchors: { anchor: PayloadAnchor; deviceId: Uint8Array; sequence: number; height: number; gatewayId: Uint8Array }[]): void {
    if (height < this.scannedHeight()) throw new Error(`anchor index at height ${this.scannedHeight()} asked to go back to ${height}`);
    this.db.transaction(() => {
      for (const a of anchors) this.q.put.run(Buffer.from(a.anchor.digest), Buffer.from(a.deviceId), a.sequence, a.height, Buffer.from(a.gatewayId), a.anchor.name, a.anchor.bytes, a.anchor.contentFormat);
      this.q.setScanned.run(height);
    })();
  }

  anchorsOf(digestHex: string, limit: number): AnchorRow[] {
    return this.q.byDigest.all(Buffer.from(digestHex, "hex"), limit).map(toRow);
  }

  /** Anchors in key order after `from` (expiry's sweep, payload-service.ts). */
  after(from: AnchorRow | undefined, limit: number): AnchorRow[] {
    const k = from ? [Buffer.from(from.digestHex, "hex"), Buffer.from(from.deviceId), from.sequence, from.name] as const : [Buffer.alloc(0), Buffer.alloc(0), -1, ""] as const;
    return this.q.after.all(...k, limit).map(toRow);
  }

  /** Forgets a reading's anchoring of a digest (it expired); returns how many readings still anchor it. */
  removeAnchor(digestHex: string, deviceId: Uint8Array, sequence: number): number {
    const d = Buffer.from(digestHex, "hex");
    this.q.remove.run(d, Buffer.from(deviceId), sequence);
    return this.q.count.get(d)!.n;
  }

  /** Every anchored digest (the fetcher's work list at start). */
  digests(): string[] {
    return this.q.digests.all().map((r) => r.digest.toString("hex"));
  }

  close(): void {
    this.db.close();
  }
}
