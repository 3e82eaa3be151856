// A certified chain in a SQLite file for the snapshot tests: 3 validators, short epochs, readings.
import { expect } from "vitest";
import { toHex } from "../../shared/ed25519.ts";
import { Chain } from "../../gateway/chain/chain.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { buildAndCommit } from "../chain/drive.ts";
import { batchBody, deviceReading, signed, type Fixture } from "../chain/fixture.ts";

/** A certified chain of `blocks` blocks over 3 validators, 5-block epochs, readings in most blocks. */
export function buildChain(f: Fixture, into: string, blocks: number): void {
  const store = ChainStore.open(into);
  const chain = Chain.open(store, f.genesis);
  const signers = new Map<string, Identity>(f.gateways.map((g) => [toHex(g.id), g]));
  const nonces = new Map<string, number>();
  let seq = 0;
  for (let b = 1; b <= blocks; b++) {
    const gw = f.gateways[b % f.gateways.length];
    const n = nonces.get(toHex(gw.id)) ?? 0;
    const p = chain.params();
    const readings = f.devices.map((d, i) => ({ bytes: deviceReading(d, seq + 1, 20 + b + i), receivedAtMs: f.genesis.genesisTimeMs + b * 1000 }));
    seq += 1;
    const tx = signed(chain.chainId, gw, n, batchBody(gw, readings), BigInt(readings.length) * p.readingFee + p.txFee);
    nonces.set(toHex(gw.id), n + 1);
    const out = buildAndCommit(chain, signers, [tx], f.genesis.genesisTimeMs + b * 1000);
    expect(out.codes).toEqual([undefined]);
  }
  store.close();
}
