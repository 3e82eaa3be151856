// The SQLite chain store: one file in the data directory, WAL, paired checks on write and read,
// recovery on open (tip verified against the tree, lagging indexes rebuilt), refusals that say
// what to do.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Chain } from "../../gateway/chain/chain.ts";
import { SoloProducer } from "../../gateway/chain/producer.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { StorageCorruption } from "../../gateway/storage/errors.ts";
import { addBatch, deviceReading, makeFixture, openChain } from "./fixture.ts";

const dirs: string[] = [];
const tempDir = (): string => {
  const d = mkdtempSync(join(tmpdir(), "mote-store-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const f = makeFixture({ label: "storage" });

function chainWithReadings(dir: string): void {
  const { chain, mempool, store } = openChain(f, dir);
  let now = f.genesis.genesisTimeMs + 1000;
  const producer = new SoloProducer({ chain, mempool, identity: f.gateways[0], clock: () => now });
  for (let b = 0; b < 5; b++) {
    const readings = f.devices.map((d) => ({ bytes: deviceReading(d, b), receivedAtMs: now }));
    addBatch(mempool, f.gateways[0], readings, now);
    producer.produce();
    now += 1000;
  }
  store.close();
}

describe("chain store", () => {
  it("uses one WAL database file in the data directory", () => {
    const dir = tempDir();
    chainWithReadings(dir);
    const store = ChainStore.open(dir);
    expect(store.path).toBe(join(dir, "chain.sqlite"));
    expect(store.db.pragma("journal_mode", { simple: true })).toBe("wal");
    expect(store.indexes.readingCount()).toBe(20);
    expect(store.indexes.readingsByDevice(f.devices[0].id).map((r) => r.sequence)).toEqual([0, 1, 2, 3, 4]);
    expect(store.indexes.txsByAccount(f.gateways[0].id).length).toBe(5);
    store.close();
  });

  it("rebuilds derived indexes that lag the tip, from block bodies", () => {
    const dir = tempDir();
    chainWithReadings(dir);
    const store = ChainStore.open(dir);
    const before = store.indexes.readingsByDevice(f.devices[1].id);
    store.db.exec("DELETE FROM readings WHERE height >= 3; DELETE FROM txs WHERE height >= 3");
    store.setMeta("index_height", Buffer.from("2"));
    Chain.open(store, f.genesis);
    expect(store.indexes.readingsByDevice(f.devices[1].id)).toEqual(before);
    expect(store.indexHeight()).toBe(5);
    store.close();
  });

  it("refuses to build on a damaged state tree", () => {
    const dir = tempDir();
    chainWithReadings(dir);
    const store = ChainStore.open(dir);
    store.db.exec("UPDATE smt_nodes SET body = zeroblob(65) WHERE id = x'0000'");
    expect(() => Chain.open(store, f.genesis)).toThrow(StorageCorruption);
    store.close();
  });

  it("checks a block read back against its stored hash", () => {
    const dir = tempDir();
    chainWithReadings(dir);
    const store = ChainStore.open(dir);
    store.db.exec("UPDATE blocks SET header = header || x'00' WHERE height = 3");
    expect(() => store.block(3)).toThrow(/does not hash/);
    store.close();
  });

  it("refuses a database of another schema version, and a missing one when read-only", () => {
    const dir = tempDir();
    const store = ChainStore.open(dir);
    store.setMeta("schema_version", Uint8Array.of(9));
    store.close();
    expect(() => ChainStore.open(dir)).toThrow(expect.objectContaining({ code: "STORE_SCHEMA" }));
    expect(() => ChainStore.open(join(dir, "nowhere"), { readonly: true })).toThrow(expect.objectContaining({ code: "STORE_OPEN" }));
  });

  it("refuses to commit a block that does not extend the tip (the write half of the paired check)", () => {
    const { chain, store } = openChain(f);
    const p = chain.build({ timeMs: f.genesis.genesisTimeMs + 1, proposer: f.gateways[0].id, txs: [] }).pending;
    chain.commit(p, null);
    expect(() => chain.commit(p, null)).toThrow(/another head/);
    expect(() => store.commitBlock({ ...store.block(1)!, stateRoot: new Uint8Array(32), stateWrites: new Map(), nodeWrites: new Map(), logNodes: [], index: { txs: [], readings: [], contracts: { runs: [], events: [] } } })).toThrow(StorageCorruption);
  });
});
