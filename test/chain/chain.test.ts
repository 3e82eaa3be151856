// End to end through the chain service: genesis, transfers and reading batches produced by the
// single validator, a replay on a second node, proofs against headers, reopening from disk.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Chain } from "../../gateway/chain/chain.ts";
import { stateKey } from "../../gateway/chain/keys.ts";
import { SoloProducer } from "../../gateway/chain/producer.ts";
import { verifyStateProof } from "../../gateway/chain/proof.ts";
import { proveReading, verifyReadingAbsent, verifyReadingPresent } from "../../gateway/chain/reading-proof.ts";
import { verifyChain } from "../../gateway/chain/recover.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { addBatch, deviceReading, makeFixture, openChain, signed } from "./fixture.ts";

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("chain service", () => {
  it("produces blocks with transfers and reading batches, replays them on a second node, proves state", () => {
    const f = makeFixture();
    const dir = mkdtempSync(join(tmpdir(), "mote-chain-"));
    dirs.push(dir);
    const { store, chain, mempool } = openChain(f, dir);
    let now = f.genesis.genesisTimeMs + 1000;
    const producer = new SoloProducer({ chain, mempool, identity: f.gateways[0], clock: () => now });
    const [alice, bob] = f.users;
    mempool.add(signed(chain.chainId, alice, 0, { kind: "transfer", to: bob.id, amount: 250n }), now);
    mempool.add(signed(chain.chainId, alice, 1, { kind: "transfer", to: bob.id, amount: 50n }), now);
    const readings = f.devices.flatMap((d) => [0, 1, 2].map((seq) => ({ bytes: deviceReading(d, seq, seq), receivedAtMs: now })));
    addBatch(mempool, f.gateways[0], readings, now);
    const b1 = producer.produce();
    expect(b1.txs).toBe(3);
    expect(b1.readings).toBe(12);
    expect(chain.state().account(bob.id).balance).toBe(100_300n);
    expect(chain.state().account(alice.id).balance).toBe(100_000n - 300n - 2n);
    expect(chain.state().device(f.devices[0].id)!.lastSequence).toBe(2);
    expect(store.indexes.readingsByDevice(f.devices[1].id)).toHaveLength(3);
    // The same reading again is a no-op with the outcome "duplicate"; its batch still lands.
    addBatch(mempool, f.gateways[0], readings.slice(0, 1), now);
    now += 1000;
    const b2 = producer.produce();
    expect(b2.txs).toBe(1);
    expect(b2.readings).toBe(0);
    expect(store.indexes.readingsByDevice(f.devices[0].id)).toHaveLength(3);
    for (let i = 0; i < 4; i++) {
      now += 1000;
      producer.produce();
    }
    expect(chain.head().height).toBe(6);

    // Proofs against the header: inclusion of a device, a reading; absence of an unknown key.
    const head = chain.head().header;
    for (const key of [stateKey.device(f.devices[0].id), stateKey.account(bob.id), stateKey.device(new Uint8Array(16))]) {
      const p = chain.prove(key);
      expect(verifyStateProof(head, key, p.value, p.proof)).toBe(true);
      expect(verifyStateProof(head, key, p.value ? undefined : new Uint8Array([1]), p.proof)).toBe(false);
    }
    // A reading: its device's record in the state tree, then the reading in the device's log.
    const present = proveReading(chain, f.devices[3].id, 2);
    expect(verifyReadingPresent(head, f.devices[3].id, 2, present)?.digest).toEqual(store.indexes.reading(f.devices[3].id, 2)!.digest);
    expect(verifyReadingPresent(head, f.devices[3].id, 1, present)).toBeUndefined();
    expect(verifyReadingAbsent(head, f.devices[3].id, 2, present)).toBe(false);
    expect(verifyReadingAbsent(head, f.devices[3].id, 9, proveReading(chain, f.devices[3].id, 9))).toBe(true);

    // Another node replays the same blocks through validate and ends on the same roots.
    const replica = openChain(f);
    for (let h = 1; h <= chain.head().height; h++) {
      const { block } = chain.blockAt(h)!;
      const p = replica.chain.validate(block);
      replica.chain.commit(p, chain.blockAt(h)!.certificate);
      expect(replica.chain.head().hash).toEqual(store.block(h)!.hash);
    }
    expect(verifyChain(store)).toBe(7);
    store.close();

    // Reopen from disk: same head, recovery passes.
    const reopened = ChainStore.open(dir);
    const chain2 = Chain.open(reopened, f.genesis);
    expect(chain2.head().hash).toEqual(replica.chain.head().hash);
    reopened.close();
  });
});
