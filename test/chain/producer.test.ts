// Single-validator mode fed by the ingest pipeline: readings pulled from a pending store become
// co-signed batch transactions through the reading feed, land in blocks, and are reported back as
// included (with the height) or refused (with the outcome's intrinsic reason). Signed transactions
// from the API share the mempool.
import { describe, expect, it } from "vitest";
import { toHex } from "../../shared/ed25519.ts";
import { SoloProducer } from "../../gateway/chain/producer.ts";
import type { PendingReadingSource } from "../../gateway/chain/reading-feed.ts";
import { deviceReading, feedFor, makeFixture, openChain, seedIdentity, signed } from "./fixture.ts";

/** An in-memory pending store with gateway/ingest's contract: the oldest readings not yet resolved. */
class MemoryPending implements PendingReadingSource {
  items: { id: number; cose: Uint8Array; receivedAtMs: number }[] = [];
  included = new Map<number, number>();
  rejected = new Map<number, string>();
  takeBatch(max: number, skip?: ReadonlySet<number>) {
    return this.items.filter((i) => !this.included.has(i.id) && !this.rejected.has(i.id) && !skip?.has(i.id)).slice(0, max);
  }
  markIncluded(ids: number[], height: number): void {
    for (const id of ids) if (!this.included.has(id)) this.included.set(id, height);
  }
  markRejected(ids: number[], code: string): void {
    for (const id of ids) this.rejected.set(id, code);
  }
  markLost(ids: number[], code: string): void {
    for (const id of ids) this.rejected.set(id, `LOST ${code}`);
  }
}

describe("single-validator producer", () => {
  it("turns pending readings into blocks and reports each reading's fate to ingest", () => {
    const f = makeFixture({ label: "producer", devices: 3 });
    const { chain, mempool } = openChain(f);
    let now = f.genesis.genesisTimeMs + 500;
    const source = new MemoryPending();
    const blocks: number[] = [];
    const { signer, feed } = feedFor(chain, mempool, f.gateways[0], source, { batchReadingsMax: 4 });
    const producer = new SoloProducer({ chain, mempool, identity: f.gateways[0], clock: () => now, signer, feed, onBlock: (b) => blocks.push(b.head.height) });
    const [d0, d1, d2] = f.devices;
    const stranger = seedIdentity("producer/stranger");
    const forged = deviceReading(d2, 0).slice();
    forged[forged.length - 1] ^= 1;
    let id = 0;
    const push = (cose: Uint8Array) => source.items.push({ id: id++, cose, receivedAtMs: now });
    push(deviceReading(d0, 0)); // 0 ok
    push(deviceReading(d0, 1)); // 1 ok
    push(deviceReading(stranger, 0)); // 2 unknown device
    push(forged); // 3 bad signature
    push(deviceReading(d1, 7)); // 4 ok
    push(deviceReading(d0, 1)); // 5 the same reading as 1 again (a retransmission through another path)
    push(Uint8Array.of(0xa0)); // 6 malformed
    mempool.add(signed(chain.chainId, f.users[0], 0, { kind: "transfer", to: f.users[1].id, amount: 9n }), now); // from the API
    producer.tick();
    producer.tick();
    expect(Object.fromEntries(source.included)).toEqual({ 0: 1, 1: 1, 4: 1, 5: 1 });
    expect(Object.fromEntries(source.rejected)).toEqual({ 2: "DEVICE_UNKNOWN", 3: "READING_BAD_SIGNATURE", 6: "READING_MALFORMED" });
    expect(chain.state().account(f.users[1].id).balance).toBe(100_009n);
    expect(chain.state().device(d1.id)!.lastSequence).toBe(7);
    // Nothing pending and the empty-block interval not reached: no block.
    expect(producer.tick()).toBeUndefined();
    now += 60_000;
    expect(producer.tick()!.head.height).toBe(2);
    expect(blocks).toEqual([1, 2]);
    // Every block carries a certificate that the next block links.
    expect(toHex(chain.blockAt(2)!.block.header.lastCommitHash)).not.toBe(toHex(new Uint8Array(32)));
  });

  it("runs on its own timer at the chain's block interval", async () => {
    const f = makeFixture({ label: "timer", params: { blockIntervalMs: 50 } });
    const { chain, mempool } = openChain(f);
    const producer = new SoloProducer({ chain, mempool, identity: f.gateways[0], clock: Date.now, options: { emptyBlockIntervalMs: 0 } });
    producer.start();
    while (chain.head().height < 3) await new Promise((r) => setTimeout(r, 20));
    producer.stop();
    expect(chain.head().height).toBeGreaterThanOrEqual(3);
  });

  it("fills a block with several batches from a store that hands out unresolved readings again", () => {
    const f = makeFixture({ label: "several", devices: 2 });
    const { chain, mempool } = openChain(f);
    const now = f.genesis.genesisTimeMs + 500;
    const source = new MemoryPending();
    for (let seq = 0; seq < 10; seq++) for (const [d, device] of f.devices.entries()) source.items.push({ id: seq * 2 + d, cose: deviceReading(device, seq), receivedAtMs: now });
    const { signer, feed } = feedFor(chain, mempool, f.gateways[0], source, { batchReadingsMax: 4, batchesPerTick: 3 });
    const producer = new SoloProducer({ chain, mempool, identity: f.gateways[0], clock: () => now, signer, feed });
    const b = producer.produce();
    expect(b.txs).toBe(3);
    expect(b.readings).toBe(12);
    expect(source.included.size).toBe(12);
  });

  it("between flushes signs only full batches, then everything pending when flushed", () => {
    const f = makeFixture({ label: "full-batches", devices: 2 });
    const { chain, mempool } = openChain(f);
    const now = f.genesis.genesisTimeMs + 500;
    const source = new MemoryPending();
    const pendingCount = () => source.items.filter((i) => !source.included.has(i.id) && !source.rejected.has(i.id)).length;
    for (const counted of [false, true]) {
      const store = counted ? Object.assign(Object.create(source), { pendingCount }) : source; // with and without a count of its own
      const items = source.items;
      items.length = 0;
      let id = counted ? 100 : 0;
      for (let seq = 0; seq < 6; seq++) items.push({ id: id++, cose: deviceReading(f.devices[0], (counted ? 10 : 0) + seq), receivedAtMs: now });
      const { signer, feed } = feedFor(chain, mempool, f.gateways[0], store, { batchReadingsMax: 4 });
      feed.tick(now, false);
      expect(signer.unconfirmed().map((e) => e.readingIds.length)).toEqual([4]); // one full batch; 2 wait
      feed.tick(now, false);
      expect(signer.unconfirmed().map((e) => e.readingIds.length)).toEqual([4]);
      feed.tick(now, true);
      expect(signer.unconfirmed().map((e) => e.readingIds.length)).toEqual([4, 2]);
      new SoloProducer({ chain, mempool, identity: f.gateways[0], clock: () => now, signer, feed }).produce();
    }
  });

  it("refuses to run when this gateway is not the only validator", () => {
    const f = makeFixture({ label: "many", gateways: 3 });
    const { chain, mempool } = openChain(f);
    expect(() => new SoloProducer({ chain, mempool, identity: f.gateways[0], clock: Date.now })).toThrow(expect.objectContaining({ code: "PRODUCER_NOT_SOLE_VALIDATOR" }));
  });
});
