// A snapshot is verified from the genesis file alone before a joining gateway installs it
// (gateway/snapshot/verify.ts). A real chain store (SQLite file, certified blocks across epochs,
// readings) is copied, tampered with in one place, and each copy must be refused with the code that
// names what did not verify; through `joinFromSnapshot` over HTTP, nothing is installed.
import Database from "better-sqlite3";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { toHex } from "../../shared/ed25519.ts";
import { decodeCertificate, encodeCertificate } from "../../gateway/chain/certificate.ts";
import { Chain } from "../../gateway/chain/chain.ts";
import { SnapshotError } from "../../gateway/snapshot/errors.ts";
import { joinFromSnapshot } from "../../gateway/snapshot/join.ts";
import { verifySnapshot } from "../../gateway/snapshot/verify.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { makeFixture } from "../chain/fixture.ts";
import { buildChain } from "./chain-fixture.ts";

const dir = mkdtempSync(join(tmpdir(), "mote-snapshot-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const f = makeFixture({ gateways: 3, devices: 2, label: "snapshot", params: { epochBlocks: 5 } });
const source = join(dir, "source");
const blocks = 17;

beforeAll(() => buildChain(f, source, blocks));

/** A copy of the source store, changed by `tamper` through plain SQL. */
function copyWith(name: string, tamper?: (db: Database.Database) => void): string {
  const to = join(dir, name);
  mkdirSync(to, { recursive: true });
  copyFileSync(join(source, "chain.sqlite"), join(to, "chain.sqlite"));
  if (tamper) {
    const db = new Database(join(to, "chain.sqlite"));
    tamper(db);
    db.close();
  }
  return to;
}

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (e instanceof SnapshotError) return e.code;
    throw e;
  }
  return "verified";
};

describe("verifySnapshot", () => {
  test("an untouched copy verifies: epochs walked, state root, device logs rebuilt", () => {
    const report = verifySnapshot(copyWith("good"), f.genesis);
    expect(report).toMatchObject({ tipHeight: blocks, epochsWalked: 3, devicesChecked: 2, prunedBlocks: 0 });
    const reopened = ChainStore.open(join(dir, "good"));
    const chain = Chain.open(reopened, f.genesis);
    expect(toHex(chain.head().header.stateRoot)).toBe(report.stateRoot);
    expect(reopened.indexes.deviceReadingCount(f.devices[0].id)).toBe(blocks);
    reopened.close();
  });

  test("derived tables are not trusted: altered or emptied, they are rebuilt from the bodies", () => {
    const to = copyWith("derived", (db) => {
      db.exec("DELETE FROM txs; UPDATE readings SET digest = zeroblob(32); DELETE FROM device_log WHERE pos % 2 = 0; DELETE FROM smt_nodes WHERE id IN (SELECT id FROM smt_nodes LIMIT 3)");
    });
    const report = verifySnapshot(to, f.genesis);
    const a = new Database(join(to, "chain.sqlite"), { readonly: true });
    const b = new Database(join(source, "chain.sqlite"), { readonly: true });
    for (const q of ["SELECT * FROM txs ORDER BY id", "SELECT * FROM readings ORDER BY device, seq", "SELECT * FROM device_log ORDER BY height, tx_idx, pos", "SELECT * FROM smt_nodes ORDER BY id"]) {
      expect(a.prepare(q).all(), q).toEqual(b.prepare(q).all());
    }
    a.close();
    b.close();
    expect(report.tipHeight).toBe(blocks);
  });

  test("one state value changed: SNAPSHOT_STATE", () => {
    const to = copyWith("state", (db) => {
      const row = db.prepare("SELECT key, value FROM state WHERE key LIKE 'account/%' LIMIT 1").get() as { key: string; value: Buffer };
      const v = Buffer.from(row.value);
      v[v.length - 1] ^= 1;
      db.prepare("UPDATE state SET value = ? WHERE key = ?").run(v, row.key);
    });
    expect(codeOf(() => verifySnapshot(to, f.genesis))).toBe("SNAPSHOT_STATE");
  });

  test("a header changed: SNAPSHOT_CHAIN (alone, or with its hash rewritten to match)", () => {
    const flip = (db: Database.Database, rehash: boolean) => {
      const r = db.prepare("SELECT header FROM blocks WHERE height = 8").get() as { header: Buffer };
      const h = Buffer.from(r.header);
      h[h.length - 3] ^= 1;
      db.prepare("UPDATE blocks SET header = ? WHERE height = 8").run(h);
      if (rehash) db.prepare("UPDATE blocks SET hash = ? WHERE height = 8").run(createHash("sha256").update(h).digest());
    };
    expect(codeOf(() => verifySnapshot(copyWith("header", (db) => flip(db, false)), f.genesis))).toBe("SNAPSHOT_CHAIN");
    expect(codeOf(() => verifySnapshot(copyWith("header-rehashed", (db) => flip(db, true)), f.genesis))).toBe("SNAPSHOT_CHAIN");
  });

  test("a reading's bytes changed in a body: SNAPSHOT_CHAIN (the transaction root)", () => {
    const to = copyWith("body", (db) => {
      const r = db.prepare("SELECT body FROM blocks WHERE height = 4").get() as { body: Buffer };
      const b = Buffer.from(r.body);
      b[b.length - 90] ^= 1;
      db.prepare("UPDATE blocks SET body = ? WHERE height = 4").run(b);
    });
    expect(codeOf(() => verifySnapshot(to, f.genesis))).toMatch(/^SNAPSHOT_(CHAIN|MALFORMED)$/);
  });

  test("a certificate signature broken: SNAPSHOT_CERTIFICATE (the tip's, and an epoch end's)", () => {
    const breakAt = (height: number) => (db: Database.Database) => {
      const r = db.prepare("SELECT certificate FROM blocks WHERE height = ?").get(height) as { certificate: Buffer };
      const c = decodeCertificate(new Uint8Array(r.certificate));
      for (const s of c.signatures) s.signature = Uint8Array.from(s.signature, (x, i) => (i === 5 ? x ^ 1 : x));
      db.prepare("UPDATE blocks SET certificate = ? WHERE height = ?").run(encodeCertificate(c), height);
    };
    expect(codeOf(() => verifySnapshot(copyWith("cert-tip", breakAt(blocks)), f.genesis))).toBe("SNAPSHOT_CERTIFICATE");
    expect(codeOf(() => verifySnapshot(copyWith("cert-epoch", breakAt(10)), f.genesis))).toBe("SNAPSHOT_CERTIFICATE");
  });

  test("a snapshot of another network: SNAPSHOT_GENESIS", () => {
    const other = makeFixture({ gateways: 3, devices: 2, label: "snapshot", params: { epochBlocks: 5 }, chainId: "mote-other" });
    const to = join(dir, "other");
    buildChain(other, to, 3);
    expect(codeOf(() => verifySnapshot(to, f.genesis))).toBe("SNAPSHOT_GENESIS");
  });

  test("not a database: SNAPSHOT_MALFORMED", () => {
    const to = copyWith("garbage", () => {});
    writeFileSync(join(to, "chain.sqlite"), Buffer.alloc(8192, 7));
    expect(codeOf(() => verifySnapshot(to, f.genesis))).toBe("SNAPSHOT_MALFORMED");
  });
});

describe("joinFromSnapshot over HTTP", () => {
  let server: Server;
  let file = join(source, "chain.sqlite");
  beforeAll(async () => {
    server = createServer((_req, res) => {
      const bytes = readFileSync(file);
      res.writeHead(200, { "content-type": "application/vnd.sqlite3", "content-length": bytes.length });
      res.end(bytes);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));
  const from = () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  test("a tampered snapshot installs nothing; a good one installs; an existing store needs --replace", async () => {
    const dataDir = join(dir, "node");
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, "gateway.key.json"), "{}"); // stands for the node's key: never touched
    file = join(copyWith("served-bad", (db) => db.exec("UPDATE state SET value = x'00' WHERE key = (SELECT key FROM state WHERE key LIKE 'account/%' LIMIT 1)")), "chain.sqlite");
    await expect(joinFromSnapshot({ from: from(), genesis: f.genesis, dataDir })).rejects.toMatchObject({ code: "SNAPSHOT_STATE" });
    expect(readdirSync(dataDir).sort()).toEqual(["gateway.key.json"]);

    file = join(source, "chain.sqlite");
    const progress: number[] = [];
    const report = await joinFromSnapshot({ from: from(), genesis: f.genesis, dataDir, onProgress: (b) => progress.push(b) });
    expect(report.tipHeight).toBe(blocks);
    expect(progress.at(-1)).toBe(report.bytes);
    expect(readdirSync(dataDir).filter((x) => !x.startsWith("chain.sqlite-")).sort()).toEqual(["chain.sqlite", "gateway.key.json"]);
    await expect(joinFromSnapshot({ from: from(), genesis: f.genesis, dataDir })).rejects.toMatchObject({ code: "SNAPSHOT_EXISTS" });
    await expect(joinFromSnapshot({ from: from(), genesis: f.genesis, dataDir, replace: true })).resolves.toMatchObject({ tipHeight: blocks });
    expect(readFileSync(join(dataDir, "gateway.key.json"), "utf8")).toBe("{}");
    expect(existsSync(join(dataDir, "snapshot.partial"))).toBe(false);
    const chain = Chain.open(ChainStore.open(dataDir), f.genesis);
    expect(chain.head().height).toBe(blocks);
    chain.store.close();
  });
});
