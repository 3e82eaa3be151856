// A chain driven by hand for the contract tests: one gateway, four users, four devices, contracts
// enabled; blocks built, certified and committed on a real SQLite store, and a replay of every
// block from genesis by a second node that must reproduce each result and the state root.
import { expect } from "vitest";
import { decode } from "../../shared/cbor.ts";
import { toHex } from "../../shared/ed25519.ts";
import type { AttachedReading } from "../../shared/tx.ts";
import { decodeHeader } from "../../gateway/chain/block.ts";
import { Chain } from "../../gateway/chain/chain.ts";
import type { GenesisFile } from "../../gateway/chain/genesis.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { ChainStore } from "../../gateway/storage/chain-store.ts";
import { decodeTxResult } from "../../gateway/chain/reading-outcome.ts";
import type { ContractRun } from "../../gateway/contracts/records.ts";
import { buildAndCommit, type Outcome } from "../chain/drive.ts";
import { batchBody, deviceReading, makeFixture, openChain, signed, type Fixture } from "../chain/fixture.ts";

export const hourMs = 3_600_000;

export class Driver {
  readonly f: Fixture;
  readonly net;
  readonly signers: Map<string, Identity>;
  private gatewayNonce = 0;
  timeMs: number;

  /** `dir`: keep the chain in a SQLite file there (default in memory). */
  constructor(label: string, dir?: string) {
    this.f = makeFixture({ gateways: 1, users: 4, devices: 4, label, params: { contractsEnabled: 1 } });
    this.net = openChain(this.f, dir);
    this.signers = new Map([...this.f.gateways, ...this.f.users, this.f.owner].map((p) => [toHex(p.id), p]));
    this.timeMs = this.f.genesis.genesisTimeMs;
  }
  get chain() {
    return this.net.chain;
  }
  block(txs: Uint8Array[], stepMs = 1000): Outcome {
    this.timeMs += stepMs;
    const out = buildAndCommit(this.chain, this.signers, txs, this.timeMs);
    expect(out.codes.filter((c) => c !== undefined), "no transaction rejected").toEqual([]);
    return out;
  }
  /** One batch of readings [device index, sequence, value], received at the block's time. */
  readings(list: [number, number, number][], stepMs = 1000): ContractRun[] {
    const g = this.f.gateways[0];
    const received = this.timeMs + stepMs;
    const readings: AttachedReading[] = list.map(([d, seq, value]) => ({ bytes: deviceReading(this.f.devices[d], seq, value), receivedAtMs: received }));
    const out = this.block([signed(this.chain.chainId, g, this.gatewayNonce++, batchBody(g, readings), 1n)], stepMs);
    expect(out.outcomes[0].every((o) => o === "READING_RECORDED")).toBe(true);
    return decodeTxResult(out.pending.execution.results[0]).runs ?? [];
  }
  balance(id: Uint8Array): bigint {
    return this.chain.state().account(id).balance;
  }
  /** A second node replays every block from genesis through validation: same results, same root. */
  replay(): { store: ChainStore; chain: Chain } {
    return replayChain(this.chain, this.f.genesis);
  }
}

function storedResults(chain: Chain, h: number): string[] {
  return (decode(chain.store.block(h)!.results) as Uint8Array[]).map(toHex);
}

/**
 * Replays `source`'s blocks from genesis on a fresh node (in memory) through validation, as a
 * node syncing would: each block's results (every contract run, its gas and events) must be the
 * stored ones, and the state root the source's. Returns the replaying node, open.
 */
export function replayChain(source: Chain, genesis: GenesisFile, toHeight = source.head().height): { store: ChainStore; chain: Chain } {
  const store = ChainStore.open(":memory:");
  const chain = Chain.open(store, genesis);
  for (let h = 1; h <= toHeight; h++) {
    const stored = source.blockAt(h)!;
    const p = chain.validate(stored.block);
    expect(p.execution.results.map(toHex), `results of block ${h}`).toEqual(storedResults(source, h));
    chain.commit(p, stored.certificate);
  }
  expect(toHex(chain.head().header.stateRoot)).toBe(toHex(decodeHeader(source.store.block(toHeight)!.header).stateRoot));
  return { store, chain };
}

