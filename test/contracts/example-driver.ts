// A chain driven by hand for the contract tests: one gateway, four users, four devices, contracts
// enabled; blocks built, certified and committed on a real SQLite store, and a replay of every
// block from genesis by a second node that must reproduce each result and the state root.
import { expect } from "vitest";
import { decode } from "../../shared/cbor.ts";
import { toHex } from "../../shared/ed25519.ts";
import type { AttachedReading } from "../../shared/tx.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
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
  replay(): ReturnType<typeof openChain> {
    const other = openChain(this.f);
    for (let h = 1; h <= this.chain.head().height; h++) {
      const stored = this.chain.blockAt(h)!;
      const p = other.chain.validate(stored.block);
      expect(p.execution.results.map(toHex)).toEqual(this.chain.store.block(h) && decodeResults(this.chain, h));
      other.chain.commit(p, stored.certificate);
    }
    expect(toHex(other.chain.head().header.stateRoot)).toBe(toHex(this.chain.head().header.stateRoot));
    return other;
  }
}

function decodeResults(chain: Driver["chain"], h: number): string[] {
  return (decode(chain.store.block(h)!.results) as Uint8Array[]).map(toHex);
}

