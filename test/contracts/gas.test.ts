// Gas: it grows exactly linearly with a loop's iteration count, is charged identically by every
// chain applying the same blocks, and the schedule is an on-chain parameter validators change by vote.
import { beforeAll, describe, expect, it } from "vitest";
import { toHex } from "../../shared/ed25519.ts";
import { decodeTx } from "../../shared/tx.ts";
import type { Identity } from "../../gateway/chain/keyfile.ts";
import { decodeTxResult } from "../../gateway/chain/reading-outcome.ts";
import { buildAndCommit } from "../chain/drive.ts";
import { makeFixture, openChain, signed } from "../chain/fixture.ts";
import { callTx, deployTx, examples, i64le } from "./contract-fixture.ts";
import { wat } from "./wat.ts";

beforeAll(() => examples());

// run(): loops input (i64 LE) times, each iteration a few arithmetic instructions.
const loop = wat(`(module
  (import "env" "input_read" (func $in (param i32)))
  (memory 1 1)
  (func (export "run") (local $n i64) (local $i i64) (local $acc i64)
    (call $in (i32.const 0))
    (local.set $n (i64.load (i32.const 0)))
    (block $done (loop $l
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (local.set $acc (i64.add (local.get $acc) (i64.mul (local.get $i) (i64.const 3))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $l)))
    (i64.store (i32.const 8) (local.get $acc))))`);

describe("gas", () => {
  it("is charged identically on three chains and grows linearly with iterations", () => {
    const f = makeFixture({ gateways: 3, users: 2, devices: 1, label: "gas", params: { contractsEnabled: 1 } });
    const signers = new Map<string, Identity>([...f.gateways, ...f.users, f.owner].map((p) => [toHex(p.id), p]));
    const chains = [openChain(f), openChain(f), openChain(f)];
    const [user] = f.users;
    let timeMs = f.genesis.genesisTimeMs;
    const block = (txs: Uint8Array[]) => {
      timeMs += 1000;
      const outs = chains.map((c) => buildAndCommit(c.chain, signers, txs, timeMs));
      for (const o of outs) {
        expect(o.codes.filter(Boolean)).toEqual([]);
        expect(toHex(o.pending.block.header.stateRoot)).toBe(toHex(outs[0].pending.block.header.stateRoot));
        expect(o.pending.execution.results.map(toHex)).toEqual(outs[0].pending.execution.results.map(toHex));
      }
      return outs[0];
    };
    const c = chains[0].chain;
    const d = deployTx(c, user, 0, loop);
    block([d.bytes]);
    const counts = [0, 1, 10, 100, 1000, 10_000];
    const out = block(counts.map((n, i) => callTx(c, user, 1 + i, d.id, "run", i64le(BigInt(n)), 5_000_000)));
    const gas = out.pending.execution.results.map((r) => decodeTxResult(r).runs![0].gasUsed);
    const perIteration = (gas[5] - gas[0]) / 10_000;
    expect(perIteration).toBeGreaterThan(0);
    counts.forEach((n, i) => expect(gas[i], `gas at ${n} iterations`).toBe(gas[0] + perIteration * n));
    expect(out.pending.execution.gasUsed).toBe(gas.reduce((a, b) => a + b, 0));
    // Out of gas at a limit below what 10,000 iterations need: fee and nonce spent, failure recorded.
    const short = block([callTx(c, user, 7, d.id, "run", i64le(10_000n), gas[5] - 1)]);
    expect(short.failures[0]).toBe("CONTRACT_OUT_OF_GAS");
    expect(decodeTxResult(short.pending.execution.results[0]).runs![0].gasUsed).toBe(gas[5] - 1);
    expect(c.state().account(user.id).nonce).toBe(8);
    for (const x of chains) x.store.close();
  });

  it("the gas schedule is governed on chain: a validator vote changes what the same call costs", () => {
    const f = makeFixture({ gateways: 1, users: 1, devices: 1, label: "gas-gov", params: { epochBlocks: 3, contractsEnabled: 1 } });
    const signers = new Map<string, Identity>([...f.gateways, ...f.users, f.owner].map((p) => [toHex(p.id), p]));
    const { chain, store } = openChain(f);
    const [user] = f.users;
    const [validator] = f.gateways;
    let timeMs = f.genesis.genesisTimeMs;
    const block = (txs: Uint8Array[]) => buildAndCommit(chain, signers, txs, (timeMs += 1000));
    const d = deployTx(chain, user, 0, loop);
    block([d.bytes]);
    const gasOf = (nonce: number) => decodeTxResult(block([callTx(chain, user, nonce, d.id, "run", i64le(100n))]).pending.execution.results[0]).runs![0].gasUsed;
    const before = gasOf(1);
    const record = chain.state().overlay.get("params/gas"); // present: contractsEnabled differs from its default
    block([signed(chain.chainId, validator, 0, { kind: "paramVote", name: "gasPerInstruction", value: 3n })]); // height 3: epoch end
    expect(chain.params().gasPerInstruction).toBe(3);
    expect(chain.state().overlay.get("params/gas")).not.toEqual(record);
    const after = gasOf(2);
    expect(after).toBeGreaterThan(2 * before);
    store.close();
  });
});

describe("a chain whose genesis does not enable contracts", () => {
  it("refuses contract transactions in the mempool and in blocks, and never loads the VM for them", () => {
    const f = makeFixture({ gateways: 1, users: 1, devices: 0, label: "no-contracts" });
    const { chain, mempool } = openChain(f);
    const deploy = deployTx(chain, f.users[0], 0, Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0)).bytes;
    expect(() => mempool.add(deploy, f.genesis.genesisTimeMs)).toThrow(expect.objectContaining({ code: "CONTRACTS_DISABLED" }));
    const { rejected } = chain.build({ timeMs: f.genesis.genesisTimeMs + 1000, proposer: f.gateways[0].id, txs: [decodeTx(deploy)] });
    expect(rejected.map((r) => r.error.code)).toEqual(["CONTRACTS_DISABLED"]);
    expect(chain.state().overlay.get("params/gas"), "no schedule record while every value is its default").toBeUndefined();
  });
});
