// Expiry on one chain (gateway/chain/expiry.ts): a retention set by the owner's transaction prunes
// exactly the readings past it, judged by block time; state roots, headers, results and the device
// logs are untouched; the pruned bodies still verify (verifyChain), recover on open, rebuild the
// indexes to the same rows; provenance of an expired reading proves its digest; a pruned block is
// not served for re-execution.
import { afterAll, describe, expect, it } from "vitest";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toHex } from "../../shared/ed25519.ts";
import { decodeHeader } from "../../gateway/chain/block.ts";
import { Chain } from "../../gateway/chain/chain.ts";
import { Expiry } from "../../gateway/chain/expiry.ts";
import { SoloProducer } from "../../gateway/chain/producer.ts";
import { decodeStoredBody, encodeStoredBody, isPrunedTx, type PrunedTx } from "../../gateway/chain/pruned-body.ts";
import { StorageCorruption } from "../../gateway/storage/errors.ts";
import { verifyChain } from "../../gateway/chain/recover.ts";
import { smtRoot } from "../../gateway/chain/smt.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { ChainAdapter } from "../../gateway/consensus/chain-adapter.ts";
import { BlockReader } from "../../gateway/api/block-reader.ts";
import { ChainQueries } from "../../gateway/api/queries.ts";
import { readingProvenance } from "../../gateway/api/provenance.ts";
import { addBatch, deviceReading, makeFixture, openChain, signed } from "./fixture.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

type Row = { device: Buffer; seq: number; height: number; digest: Buffer; log_idx: number };


describe("expiry on one chain", () => {
  it("prunes exactly the readings past their device's retention, by block time, and keeps every proof", () => {
    const dir = mkdtempSync(join(tmpdir(), "mote-expiry-"));
    dirs.push(dir);
    const f = makeFixture({ label: "expiry", devices: 3 });
    const { store, chain, mempool } = openChain(f, dir);
    let now = f.genesis.genesisTimeMs + 1000;
    const producer = new SoloProducer({ chain, mempool, identity: f.gateways[0], clock: () => now });
    const fee = chain.params().txFee;
    // Owner-wide 10 s; device 0 5 s; device 1 forever (0) over the owner's default; device 2 follows the owner.
    let nonce = 0;
    for (const [deviceId, seconds] of [[null, 10], [f.devices[0].id, 5], [f.devices[1].id, 0]] as const) {
      mempool.add(signed(chain.chainId, f.owner, nonce++, { kind: "setRetention", deviceId, seconds }, fee), now);
    }
    producer.produce();
    now += 1000;
    const headers: string[] = [];
    for (let b = 1; b <= 30; b++) {
      addBatch(mempool, f.gateways[0], f.devices.map((d) => ({ bytes: deviceReading(d, b), receivedAtMs: now })), now);
      producer.produce();
      now += 1000;
    }
    const tip = chain.head();
    for (let h = 0; h <= tip.height; h++) headers.push(toHex(store.block(h)!.header));
    const rows = store.db.prepare("SELECT device, seq, height, digest, log_idx FROM readings ORDER BY device, seq").all() as Row[];
    const timeOf = (h: number) => store.block(h)!.timeMs;
    const expected = (d: number, height: number) => {
      const r = [5, 0, 10][d];
      return r > 0 && timeOf(height) + r * 1000 <= tip.header.timeMs;
    };
    // Slices run on later event-loop turns in a node; here in line, up to the newest finalized block.
    chain.expiry.drain();
    const values = store.db.prepare("SELECT count(*) AS n FROM reading_values v JOIN readings r ON v.height = r.height AND v.tx_idx = r.tx_idx AND v.pos = r.pos WHERE r.device = ? AND r.seq = ?");
    let expiredCount = 0;
    for (const row of rows) {
      const d = f.devices.findIndex((x) => Buffer.compare(x.id, row.device) === 0);
      const exp = expected(d, row.height);
      expiredCount += exp ? 1 : 0;
      expect(chain.expiry.isExpired(row.device, row.log_idx), `device ${d} seq ${row.seq}`).toBe(exp);
      expect((values.get(row.device, row.seq) as { n: number }).n === 0, `values of device ${d} seq ${row.seq}`).toBe(exp);
    }
    expect(expiredCount).toBeGreaterThan(20);
    expect(chain.expiry.stats.failures).toBe(0);

    // Headers (hence state roots) untouched; the state tree still gives the head's root; bodies verify.
    for (let h = 0; h <= tip.height; h++) expect(toHex(store.block(h)!.header)).toBe(headers[h]);
    expect(toHex(smtRoot(store))).toBe(toHex(tip.header.stateRoot));
    expect(verifyChain(store)).toBe(tip.height + 1);

    // An expired reading: provenance says so and still proves its digest; a kept one still has values.
    const reader = new BlockReader(chain, 16);
    const queries = new ChainQueries(store);
    const old = readingProvenance(chain, queries, reader, f.devices[0].id, 1);
    expect(old.reading).toMatchObject({ expired: true, records: null, cose: null });
    expect(old.reading.expiredAtMs).toBe(timeOf(old.reading.height) + 5000);
    expect(old.device).toBeNull();
    expect({ gateway: old.gateway.valid, tx: old.block.txIncluded, cert: old.certificate.valid, state: old.state.valid, verified: old.verified }).toEqual({ gateway: true, tx: true, cert: true, state: true, verified: true });
    const kept = readingProvenance(chain, queries, reader, f.devices[1].id, 1);
    expect(kept.reading.records).toHaveLength(1);
    expect(kept.verified).toBe(true);
    expect(kept.device?.valid).toBe(true);

    // A pruned block cannot be served for re-execution.
    const prunedHeight = rows.find((r) => Buffer.compare(r.device, f.devices[0].id) === 0 && r.seq === 1)!.height;
    expect(decodeStoredBody(store.block(prunedHeight)!.body).txs.some(isPrunedTx)).toBe(true);
    expect(() => chain.blockAt(prunedHeight)).toThrow(expect.objectContaining({ code: "BLOCK_PRUNED" }));
    expect(new ChainAdapter(chain, mempool).committed(prunedHeight), "a pruned block is not served to a syncing peer").toBeUndefined();

    // A pruned body whose kept leaf hash was altered no longer matches its header: verifyChain says so.
    const good = store.block(prunedHeight)!.body;
    const body = decodeStoredBody(good);
    const t = body.txs.findIndex(isPrunedTx);
    const p = body.txs[t] as PrunedTx;
    body.txs[t] = { ...p, leafHash: Uint8Array.from(p.leafHash, (x, i) => (i === 0 ? x ^ 1 : x)) };
    store.db.prepare("UPDATE blocks SET body = ? WHERE height = ?").run(encodeStoredBody(body), prunedHeight);
    expect(() => verifyChain(store)).toThrow(StorageCorruption);
    store.db.prepare("UPDATE blocks SET body = ? WHERE height = ?").run(good, prunedHeight);
    expect(verifyChain(store)).toBe(tip.height + 1);
    store.close();

    // Reopen with the indexes marked stale: recovery rebuilds them from the pruned bodies, to the same rows.
    const again = ChainStore.open(dir);
    again.db.exec("DELETE FROM readings; DELETE FROM txs;");
    again.setMeta("index_height", Buffer.from("-1"));
    const reopened = Chain.open(again, f.genesis);
    expect(reopened.head().height).toBe(tip.height);
    expect(again.db.prepare("SELECT device, seq, height, digest, log_idx FROM readings ORDER BY device, seq").all()).toEqual(rows);
    expect(decodeHeader(again.block(tip.height)!.header).stateRoot).toEqual(tip.header.stateRoot);
    again.close();
  });

  it("works in bounded slices over more devices than one slice visits, to the same result", () => {
    const f = makeFixture({ label: "expiry-slices", devices: 5 });
    const { store, chain, mempool } = openChain(f);
    let now = f.genesis.genesisTimeMs + 1000;
    const producer = new SoloProducer({ chain, mempool, identity: f.gateways[0], clock: () => now });
    mempool.add(signed(chain.chainId, f.owner, 0, { kind: "setRetention", deviceId: null, seconds: 3 }, chain.params().txFee), now);
    for (let b = 1; b <= 15; b++) {
      producer.produce();
      now += 1000;
      addBatch(mempool, f.gateways[0], f.devices.map((d) => ({ bytes: deviceReading(d, b), receivedAtMs: now })), now);
    }
    producer.produce();
    // The chain's own slices have not run (no event-loop turn yet); a second pruner with tiny bounds does the work.
    const small = new Expiry(store, { devicesPerPass: 2, readingsPerPass: 3, blocksPerPass: 2, roundIntervalMs: 0 });
    const tip = chain.head();
    let slices = 0;
    for (let quiet = 0; quiet < f.devices.length; slices++) {
      const r = small.afterCommit(tip.header.timeMs, tip.height);
      expect(r.readings).toBeLessThanOrEqual(3);
      expect(r.blocks).toBeLessThanOrEqual(2);
      expect(r.devices).toBeLessThanOrEqual(2);
      quiet = r.readings > 0 ? 0 : quiet + r.devices; // done when a whole round over the 5 devices found nothing
      expect(slices).toBeLessThan(200);
    }
    expect(slices).toBeGreaterThan(15);
    // drain() ends the same way: nothing left for the chain's own pruner.
    chain.expiry.schedule(tip.header.timeMs, tip.height);
    expect(chain.expiry.drain()).toBe(0);
    const rows = store.db.prepare("SELECT device, height, log_idx FROM readings").all() as Row[];
    for (const row of rows) expect(small.isExpired(row.device, row.log_idx)).toBe(store.block(row.height)!.timeMs + 3000 <= tip.header.timeMs);
    expect(rows.filter((r) => small.isExpired(r.device, r.log_idx)).length).toBeGreaterThan(40);
    expect(small.stats.failures).toBe(0);
  });

  it("starts a round over the devices after a commit only once roundIntervalMs has passed since the last began", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mote-expiry-round-"));
    dirs.push(dir);
    const f = makeFixture({ label: "expiry-round", devices: 3 });
    const { store, chain, mempool } = openChain(f, dir);
    let now = f.genesis.genesisTimeMs + 1000;
    const producer = new SoloProducer({ chain, mempool, identity: f.gateways[0], clock: () => now });
    const turn = () => new Promise((r) => setImmediate(r));
    const rounds = async (expiry: Expiry) => {
      for (let b = 1; b <= 5; b++) {
        addBatch(mempool, f.gateways[0], f.devices.map((d) => ({ bytes: deviceReading(d, b), receivedAtMs: now })), now);
        producer.produce();
        now += 1000;
        const tip = chain.head();
        expiry.schedule(tip.header.timeMs, tip.height);
        for (let i = 0; i < 4; i++) await turn(); // a round over 3 devices is one slice; let it run
      }
      return expiry.stats.passes;
    };
    // Nothing is ever due (no retention): with no interval every commit starts a round, with a long one only the first does.
    expect(await rounds(new Expiry(store, { ...chain.expiry.options, roundIntervalMs: 0 }))).toBe(5);
    const paced = new Expiry(store, { ...chain.expiry.options, roundIntervalMs: 3_600_000 });
    expect(await rounds(paced)).toBe(1);
    paced.close();
  });

  it("refuses a retention set by someone other than the owner, and one out of range", () => {
    const f = makeFixture({ label: "expiry-auth", devices: 1 });
    const { chain, mempool } = openChain(f);
    const fee = chain.params().txFee;
    expect(() => mempool.add(signed(chain.chainId, f.users[0], 0, { kind: "setRetention", deviceId: f.devices[0].id, seconds: 5 }, fee), 0)).toThrow(expect.objectContaining({ code: "DEVICE_NOT_OWNER" }));
    expect(() => mempool.add(signed(chain.chainId, f.owner, 0, { kind: "setRetention", deviceId: null, seconds: 2 ** 33 }, fee), 0)).toThrow(expect.objectContaining({ code: "RETENTION_OUT_OF_RANGE" }));
  });
});
