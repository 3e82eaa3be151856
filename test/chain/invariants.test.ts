// Property (issue 4, "Must show"): whatever the order of the same random transactions, after every
// block the total supply is conserved, no stake or balance is negative, candidate backing equals
// its voters' stakes, and no device sequence is on chain twice.
import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { toHex } from "../../shared/ed25519.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { stateKey } from "../../gateway/chain/keys.ts";
import { buildAndCommit } from "./drive.ts";
import { batchBody, deviceReading, makeFixture, openChain, signed } from "./fixture.ts";
import { checkInvariants, genesisSupply } from "./invariants.ts";
import { rng, TxStream } from "./random-txs.ts";

const f = makeFixture({ gateways: 2, users: 6, devices: 4, label: "invariants", params: { epochBlocks: 2, unbondingBlocks: 1 } });
const signers = new Map<string, Identity>([...f.gateways, ...f.users, f.owner].map((p) => [toHex(p.id), p]));
const supply = genesisSupply(f.genesis);

function shuffled<T>(xs: T[], seed: number): T[] {
  const next = rng(seed);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(next() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

describe("state invariants", () => {
  it("hold after every block for any order of the same transactions", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), (seed, orderSeed) => {
        const blocks = 4;
        const perBlock = 40;
        const original = openChain(f);
        const stream = new TxStream(f, seed);
        const all: Uint8Array[] = [];
        for (let h = 1; h <= blocks; h++) {
          const timeMs = f.genesis.genesisTimeMs + h * 1000;
          const txs = stream.block(original.chain, perBlock, timeMs);
          all.push(...txs);
          buildAndCommit(original.chain, signers, txs, timeMs);
          checkInvariants(original.store, supply);
        }
        // The same transactions, shuffled across all blocks, on a fresh chain.
        const reordered = openChain(f);
        const order = shuffled(all, orderSeed);
        for (let h = 1; h <= blocks; h++) {
          buildAndCommit(reordered.chain, signers, order.slice((h - 1) * perBlock, h * perBlock), f.genesis.genesisTimeMs + h * 1000);
          checkInvariants(reordered.store, supply);
        }
        original.store.close();
        reordered.store.close();
      }),
      { numRuns: 25 },
    );
  });

  it("records a device sequence once, even from different gateways in one block; the copy is a no-op", () => {
    const c = openChain(makeFixture({ gateways: 2, label: "replay" }));
    const g = makeFixture({ gateways: 2, label: "replay" });
    const d = g.devices[0];
    const readings = [0, 1, 2].map((s) => ({ bytes: deviceReading(d, s), receivedAtMs: g.genesis.genesisTimeMs }));
    const txs = [
      signed(c.chain.chainId, g.gateways[0], 0, batchBody(g.gateways[0], readings)),
      signed(c.chain.chainId, g.gateways[1], 0, batchBody(g.gateways[1], readings.slice(2))),
      signed(c.chain.chainId, g.gateways[1], 1, batchBody(g.gateways[1], [{ bytes: deviceReading(d, 3), receivedAtMs: g.genesis.genesisTimeMs }])),
    ];
    const signersHere = new Map<string, Identity>(g.gateways.map((p) => [toHex(p.id), p]));
    const out = buildAndCommit(c.chain, signersHere, txs, g.genesis.genesisTimeMs + 1000);
    expect(out.codes).toEqual([undefined, undefined, undefined]);
    expect(out.outcomes).toEqual([["READING_RECORDED", "READING_RECORDED", "READING_RECORDED"], ["READING_DUPLICATE"], ["READING_RECORDED"]]);
    expect(c.chain.state().device(d.id)!.lastSequence).toBe(3);
    expect(c.store.indexes.reading(d.id, 2)!.logIndex).toBe(2);
    expect(checkInvariants(c.store, genesisSupply(g.genesis)).readings).toBe(4);
  });

  it("the checker itself fails on a broken supply (so a pass means something)", () => {
    const c = openChain(f);
    const key = stateKey.account(f.users[0].id);
    const bytes = c.store.get(key)!.slice();
    bytes[2] ^= 1; // the balance's low byte (array head, uint head, value...)
    c.store.db.prepare("UPDATE state SET value = ? WHERE key = ?").run(bytes, key);
    const fresh = openChain(f); // unaffected chain passes
    checkInvariants(fresh.store, supply);
    expect(() => checkInvariants(c.store, supply)).toThrow(/supply/);
  });
});
