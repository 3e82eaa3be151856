// The transactions this node signs with its own key (reading batches, validator evidence), kept
// in `<dataDir>/outbox.sqlite` from before they are gossiped until the chain has used their nonce.
//
// Invariant (owned here): never two different transactions from this key under one nonce. Each
// nonce is allocated once, from a persisted counter that only grows, and the signed bytes are
// on disk (synchronous=FULL) before anyone else can see them. After a restart the same bytes are
// offered again, never re-signed. A nonce the chain used for another transaction of this key (a
// CLI command signed with the same key file) makes the entry "displaced": its payload is released
// to be signed again at a new nonce; the old bytes can no longer apply anywhere.
import Database from "better-sqlite3";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { toHex } from "../../shared/ed25519.ts";
import { decodeTx, signTx, txVersion, type DecodedTx, type TxBody } from "../../shared/tx.ts";
import { invariantFailed } from "./errors.ts";
import type { Identity } from "./keyfile.ts";

export const outboxFile = "outbox.sqlite";

export interface OutboxEntry {
  nonce: number;
  tx: DecodedTx;
  /** Pending-store ids of the readings a batch carries, in batch order (empty for evidence). */
  readingIds: number[];
  /** What the entry is about, for dedup (e.g. the consensus offence of evidence). */
  topic: string | null;
  createdAtMs: number;
}

interface Row {
  nonce: number;
  tx: Buffer;
  reading_ids: string;
  topic: string | null;
  created_ms: number;
}

const schema = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL) STRICT;
  CREATE TABLE IF NOT EXISTS outbox (
    nonce INTEGER PRIMARY KEY,        -- one transaction per nonce, for ever
    tx BLOB NOT NULL,                 -- the signed bytes, offered again as they are
    reading_ids TEXT NOT NULL,        -- JSON array of pending-store ids, in batch order
    topic TEXT,
    created_ms INTEGER NOT NULL
  ) STRICT;
`;

export class TxOutbox {
  private readonly db: Database.Database;
  private readonly cache = new Map<number, OutboxEntry>();
  private nextNonceCache: number;
  private readonly q: { insert: Database.Statement; nextNonce: Database.Statement; settle: Database.Statement };

  private constructor(
    path: string,
    readonly identity: Identity,
    readonly chainId: string,
  ) {
    this.db = new Database(path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.exec(schema);
    this.q = {
      insert: this.db.prepare("INSERT INTO outbox (nonce, tx, reading_ids, topic, created_ms) VALUES (?, ?, ?, ?, ?)"),
      nextNonce: this.db.prepare("INSERT INTO meta (key, value) VALUES ('next_nonce', ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"),
      settle: this.db.prepare("DELETE FROM outbox WHERE nonce < ?"),
    };
    this.nextNonceCache = (this.db.prepare("SELECT value FROM meta WHERE key = 'next_nonce'").pluck().get() as number | undefined) ?? 0;
    for (const r of this.db.prepare("SELECT * FROM outbox ORDER BY nonce").all() as Row[]) {
      const tx = decodeTx(new Uint8Array(r.tx));
      if (Buffer.compare(tx.authorId, identity.id) !== 0) invariantFailed(`outbox entry ${r.nonce} was signed by ${toHex(tx.authorId)}, not this node's key ${toHex(identity.id)}: this data directory belongs to another key`);
      if (tx.nonce !== r.nonce) invariantFailed(`outbox entry ${r.nonce} holds a transaction with nonce ${tx.nonce}`);
      this.cache.set(r.nonce, { nonce: r.nonce, tx, readingIds: JSON.parse(r.reading_ids) as number[], topic: r.topic, createdAtMs: r.created_ms });
    }
  }

  /** `dataDir` ":memory:" keeps the outbox in memory (tests of one process lifetime). */
  static open(dataDir: string, identity: Identity, chainId: string): TxOutbox {
    if (dataDir === ":memory:") return new TxOutbox(":memory:", identity, chainId);
    mkdirSync(dataDir, { recursive: true });
    return new TxOutbox(join(dataDir, outboxFile), identity, chainId);
  }

  /**
   * Signs `body` at the next nonce (never below `floorNonce`: the chain's next for this key, past
   * what the mempool holds of it), stores it durably, and returns it. Only then may it be gossiped.
   */
  sign(body: TxBody, fee: bigint, floorNonce: number, payload: { readingIds?: number[]; topic?: string } = {}, nowMs = Date.now()): OutboxEntry {
    const nonce = Math.max(floorNonce, this.nextNonceCache);
    if (this.cache.has(nonce)) invariantFailed(`nonce ${nonce} is already allocated`);
    const bytes = signTx(this.identity.key, this.chainId, { version: txVersion, author: this.identity.publicKey, nonce, fee, body });
    const entry: OutboxEntry = { nonce, tx: decodeTx(bytes), readingIds: payload.readingIds ?? [], topic: payload.topic ?? null, createdAtMs: nowMs };
    this.db.transaction(() => {
      this.q.insert.run(nonce, bytes, JSON.stringify(entry.readingIds), entry.topic, nowMs);
      this.q.nextNonce.run(nonce + 1);
    })();
    this.nextNonceCache = nonce + 1;
    this.cache.set(nonce, entry);
    return entry;
  }

  /** Entries whose nonce the chain has not used yet, in nonce order. */
  unconfirmed(): OutboxEntry[] {
    return [...this.cache.values()].sort((a, b) => a.nonce - b.nonce);
  }

  byTxId(id: Uint8Array): OutboxEntry | undefined {
    for (const e of this.cache.values()) if (Buffer.compare(e.tx.id, id) === 0) return e;
    return undefined;
  }

  get size(): number {
    return this.cache.size;
  }

  /**
   * Drops the entries whose nonce the chain has used (below `accountNonce`) and returns them:
   * `included` tells whether the chain took that entry's own transaction or another one.
   */
  settle(accountNonce: number, included: (tx: DecodedTx) => boolean): { settled: OutboxEntry[]; displaced: OutboxEntry[] } {
    const settled: OutboxEntry[] = [];
    const displaced: OutboxEntry[] = [];
    const done = [...this.cache.values()].filter((e) => e.nonce < accountNonce);
    if (done.length === 0) return { settled, displaced };
    for (const e of done) (included(e.tx) ? settled : displaced).push(e);
    // Without waiting for the disk: an entry whose deletion a power cut undoes is settled again
    // at the next start (its nonce is below the account's), and next_nonce, which alone keeps
    // nonces unique, is written only by sign (FULL). Saves an fsync per block on the consensus thread.
    this.db.pragma("synchronous = NORMAL");
    try {
      this.q.settle.run(accountNonce);
    } finally {
      this.db.pragma("synchronous = FULL");
    }
    for (const e of done) this.cache.delete(e.nonce);
    return { settled, displaced };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
